using System.Diagnostics;
using System.Runtime.Versioning;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// Holds the AppHost's exit (Ctrl+C in scripts/run-shop.sh, a test disposing its graph) until every server it started
/// for the data root has exited, up to <see cref="Bound"/>: the orchestrator is told to stop them before this runs,
/// but they take seconds to go, and a start right after a stop would otherwise find them and refuse the folder.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class ServerExitWait(ProcessDataRoot dataRoot, ILogger<ServerExitWait> logger) : IHostedLifecycleService
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        var left = BackingProcesses.Using(dataRoot.Path);
        while (left.Count > 0 && waited.Elapsed < Bound)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
            left = BackingProcesses.Using(dataRoot.Path);
        }

        if (left.Count > 0)
        {
            logger.LogWarning("After {Seconds} s these servers still use {DataRoot}: {Servers}; stop them before the next run.",
                (int)Bound.TotalSeconds, dataRoot.Path, string.Join(", ", left.Select(p => $"{p.Name} (pid {p.Id})")));
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
