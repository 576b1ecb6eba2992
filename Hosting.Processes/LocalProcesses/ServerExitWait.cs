using System.Diagnostics;
using System.Runtime.Versioning;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// Holds the AppHost's exit (Ctrl+C in scripts/run-shop.sh, a test disposing its graph) until every server it started
/// for the data root has exited: a start right after a stop would otherwise find them and refuse the folder.
/// <list type="bullet">
/// <item>Stopped after it started, the orchestrator stops the servers before <see cref="StoppedAsync"/> runs; they take
/// seconds to go, and are waited for up to <see cref="Bound"/>.</item>
/// <item>Stopped while it starts, the host never stops its services, so the orchestrator never stops the servers (and
/// the AppHost itself may be running initdb or pg_basebackup): the host's disposal, which comes however the host ends,
/// gives them <see cref="GraceOnDispose"/> and then ends them itself.</item>
/// </list>
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class ServerExitWait(ProcessDataRoot dataRoot, ILogger<ServerExitWait> logger) : IHostedLifecycleService, IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan GraceOnDispose = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan TermWait = TimeSpan.FromSeconds(10);

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        var left = await WaitForExitAsync(Bound);
        if (left.Count > 0)
        {
            logger.LogWarning("After {Seconds} s these servers still use {DataRoot}: {Servers}; ending them.",
                (int)Bound.TotalSeconds, dataRoot.Path, Describe(left));
        }
    }

    public async ValueTask DisposeAsync()
    {
        var left = await WaitForExitAsync(GraceOnDispose);
        if (left.Count == 0)
        {
            return;
        }

        // Servers shut down cleanly on SIGTERM (PostgreSQL's smart shutdown: its clients, the services, are gone).
        Signal(left, "TERM");
        left = await WaitForExitAsync(TermWait);
        if (left.Count > 0)
        {
            logger.LogWarning("These servers did not end on SIGTERM within {Seconds} s and are killed: {Servers}.",
                (int)TermWait.TotalSeconds, Describe(left));
            Signal(left, "KILL");
        }
    }

    private async Task<IReadOnlyList<BackingProcess>> WaitForExitAsync(TimeSpan bound)
    {
        var waited = Stopwatch.StartNew();
        var left = BackingProcesses.Using(dataRoot.Path);
        while (left.Count > 0 && waited.Elapsed < bound)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
            left = BackingProcesses.Using(dataRoot.Path);
        }

        return left;
    }

    private static void Signal(IEnumerable<BackingProcess> servers, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", .. servers.Select(server => server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        kill.WaitForExit();
    }

    private static string Describe(IEnumerable<BackingProcess> servers) => string.Join(", ", servers.Select(p => $"{p.Name} (pid {p.Id})"));

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
