using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AspireShop.AppHost.Drills;

/// <summary>What the drills read and wait for in the orchestrator's view of a resource instance.</summary>
internal static class ResourceStates
{
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan HealthyWait = TimeSpan.FromMinutes(2);

    public static int? ProcessId(this ExecuteCommandContext context)
        => context.Services.GetRequiredService<ResourceNotificationService>().TryGetCurrentState(context.ResourceName, out var e)
           && e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } pid
            ? Convert.ToInt32(pid, CultureInfo.InvariantCulture)
            : null;

    public static Task<ResourceEvent> UntilStoppedAsync(this ExecuteCommandContext context)
        => UntilAsync(context, e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), StopWait);

    public static Task<ResourceEvent> UntilHealthyAsync(this ExecuteCommandContext context)
        => UntilAsync(context, e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy, HealthyWait);

    /// <summary>Runs a built-in command (start, stop) on the same instance, as the dashboard's buttons do.</summary>
    public static async Task RunAsync(this ExecuteCommandContext context, string command)
    {
        var result = await context.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync(context.ResourceName, command, context.CancellationToken);
        if (!result.Success)
        {
            throw new InvalidOperationException($"{command} of {context.ResourceName} failed: {result.Message}");
        }
    }

    /// <summary>
    /// Waits for the instance the command runs on. By its id, not its name: a replica's name is its service's, shared
    /// with the other replicas, which is what <c>WaitForResourceAsync</c> matches.
    /// </summary>
    private static async Task<ResourceEvent> UntilAsync(ExecuteCommandContext context, Func<ResourceEvent, bool> condition, TimeSpan timeout)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        limit.CancelAfter(timeout);
        await foreach (var e in context.Services.GetRequiredService<ResourceNotificationService>().WatchAsync(limit.Token))
        {
            if (e.ResourceId == context.ResourceName && condition(e))
            {
                return e;
            }
        }

        throw new OperationCanceledException(limit.Token);
    }
}
