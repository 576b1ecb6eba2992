using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Tests.WholeGraph;

/// <summary>Starts the real AppHost graph in processes mode, with its own data folder, and waits for every resource to be healthy.</summary>
public static class ShopGraph
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    public static string NewDataRoot()
        => Path.Combine(Path.GetTempPath(), "aspireshop-tests", Guid.NewGuid().ToString("N")[..12]);

    public static async Task<(DistributedApplication App, TimeSpan TimeToHealthy)> StartHealthyAsync(
        string dataRoot, params string[] extraArguments)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--Infrastructure:Mode=processes", $"--Infrastructure:DataRoot={dataRoot}", .. extraArguments],
            timeout.Token);
        // Health checks fail loudly while servers start and stop; the resources' own states are what the tests assert.
        builder.Services.AddLogging(logging => logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical));
        var app = await builder.BuildAsync(timeout.Token);

        var clock = Stopwatch.StartNew();
        try
        {
            await app.StartAsync(timeout.Token);
            var notifications = app.Services.GetRequiredService<ResourceNotificationService>();
            var model = app.Services.GetRequiredService<DistributedApplicationModel>();
            // Hidden resources (such as the rebuilders Aspire adds for projects) are not started and never report
            // health. A resource that failed is reported at once, with the end of its log, instead of at the timeout.
            var settled = await Task.WhenAll(model.Resources.Select(resource => notifications.WaitForResourceAsync(
                resource.Name,
                e => e.Snapshot.IsHidden || e.Snapshot.HealthStatus == HealthStatus.Healthy || HasFailed(e),
                timeout.Token)));
            if (settled.FirstOrDefault(HasFailed) is { } failed)
            {
                throw new InvalidOperationException(
                    $"{failed.Resource.Name} is {failed.Snapshot.State?.Text}; its log ends:\n{await LogTailAsync(app, failed.Resource.Name)}");
            }
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return (app, clock.Elapsed);
    }

    private static bool HasFailed(ResourceEvent e)
        => e.Snapshot.State?.Text is "FailedToStart" or "Exited" or "Finished" && !e.Snapshot.IsHidden;

    private static async Task<string> LogTailAsync(DistributedApplication app, string resourceName)
    {
        var lines = new List<string>();
        using var enough = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await foreach (var batch in app.Services.GetRequiredService<ResourceLoggerService>().WatchAsync(resourceName).WithCancellation(enough.Token))
            {
                lines.AddRange(batch.Select(line => line.Content));
            }
        }
        catch (OperationCanceledException)
        {
            // The backlog has been read; the log stays open while the application runs.
        }

        return string.Join('\n', lines.TakeLast(30));
    }

    private static readonly string[] Services = ["catalog-api", "ordering-worker", "web-blazor"];

    /// <summary>
    /// Stops a resource of the running graph and waits until it has stopped. Disposing the result starts it again and
    /// waits until it and every service are healthy, so the next test finds the graph whole.
    /// </summary>
    public static async Task<IAsyncDisposable> StopAsync(this DistributedApplication app, string resource)
    {
        var stop = await app.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(resource, KnownResourceCommands.StopCommand);
        Assert.True(stop.Success, stop.Message);
        await app.Services.GetRequiredService<ResourceNotificationService>().WaitForResourceAsync(resource, KnownResourceStates.TerminalStates);
        return new Restart(app, resource);
    }

    private sealed class Restart(DistributedApplication app, string resource) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            var start = await app.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(resource, KnownResourceCommands.StartCommand);
            Assert.True(start.Success, start.Message);
            var notifications = app.Services.GetRequiredService<ResourceNotificationService>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await notifications.WaitForResourceHealthyAsync(resource, timeout.Token);
            foreach (var service in Services)
            {
                await notifications.WaitForResourceAsync(service, e => e.Snapshot.HealthStatus == HealthStatus.Healthy, timeout.Token);
            }
        }
    }

    public static void DeleteDataRoot(string dataRoot)
    {
        if (Directory.Exists(dataRoot))
        {
            Directory.Delete(dataRoot, recursive: true);
        }
    }
}
