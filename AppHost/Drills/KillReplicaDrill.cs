using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AspireShop.AppHost.Drills;

public static class KillReplicaDrill
{
    /// <summary>
    /// A dashboard command on every replica of the service: kill its process with SIGKILL (no shutdown, no flushing,
    /// as a crashed or evicted container dies), wait until the orchestrator sees it gone, then start it again, as a
    /// platform restarts a crashed replica, and wait until it is healthy. <paramref name="whatToWatch"/> tells the
    /// person what the shop should do meanwhile.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithKillReplicaDrill(this IResourceBuilder<ProjectResource> service, string whatToWatch)
        => service.WithCommand("drill-kill", "Drill: kill this replica", async context =>
        {
            if (context.ProcessId() is not { } pid)
            {
                return CommandResults.Failure($"{context.ResourceName} has no running process to kill.");
            }

            var clock = Stopwatch.StartNew();
            using (var process = Process.GetProcessById(pid))
            {
                process.Kill();
            }

            context.Logger.LogWarning("Drill: killed {Resource} (pid {Pid}) with SIGKILL.", context.ResourceName, pid);
            await context.UntilStoppedAsync();
            await context.RunAsync(KnownResourceCommands.StartCommand);
            await context.UntilHealthyAsync();
            var restarted = context.ProcessId();
            context.Logger.LogWarning("Drill: {Resource} is back (pid {Pid}) and healthy, {Seconds:0.0} s after the kill.",
                context.ResourceName, restarted, clock.Elapsed.TotalSeconds);
            return CommandResults.Success($"Killed pid {pid}; restarted as pid {restarted}, healthy {clock.Elapsed.TotalSeconds:0.0} s after the kill.");
        }, new CommandOptions
        {
            Description = "SIGKILL this replica's process, then start it again once it is seen gone.",
            ConfirmationMessage = $"Kill this replica's process with SIGKILL (no graceful shutdown)? It is started again once the orchestrator sees it gone. {whatToWatch}",
            IconName = "Flash",
            UpdateState = DrillArguments.WhileRunning,
        });
}
