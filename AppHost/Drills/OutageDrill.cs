using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AspireShop.AppHost.Drills;

public static class OutageDrill
{
    /// <summary>
    /// A dashboard command on a backing server: stop it for N seconds, start it again and wait until it is healthy,
    /// so the services' reconnects and fallbacks can be watched through a whole outage.
    /// </summary>
    public static IResourceBuilder<T> WithOutageDrill<T>(this IResourceBuilder<T> server, string whatToWatch) where T : IResource
        => server.WithCommand("drill-outage", "Drill: stop for N seconds", async context =>
        {
            var seconds = context.Arguments.Get("seconds");
            var clock = Stopwatch.StartNew();
            await context.RunAsync(KnownResourceCommands.StopCommand);
            await context.UntilStoppedAsync();
            context.Logger.LogWarning("Drill: stopped {Resource} for {Seconds} s.", context.ResourceName, seconds);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), context.CancellationToken);
            }
            finally
            {
                await context.RunAsync(KnownResourceCommands.StartCommand);
            }

            await context.UntilHealthyAsync();
            context.Logger.LogWarning("Drill: {Resource} is back and healthy, {Seconds:0.0} s after it was stopped.", context.ResourceName, clock.Elapsed.TotalSeconds);
            return CommandResults.Success($"Stopped for {seconds} s; healthy again {clock.Elapsed.TotalSeconds:0.0} s after the stop.");
        }, new CommandOptions
        {
            Description = "Stop this server for N seconds, then start it again.",
            ConfirmationMessage = $"Stop this server for the seconds given, then start it again? {whatToWatch}",
            Arguments = [DrillArguments.Seconds(15, "How long the server stays down.")],
            ValidateArguments = DrillArguments.Within(("seconds", 1, 300)),
            IconName = "PlugDisconnected",
            UpdateState = DrillArguments.WhileRunning,
        });
}
