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

    public static Task<(DistributedApplication App, TimeSpan TimeToHealthy)> StartHealthyAsync(string dataRoot, params string[] extraArguments)
        => StartHealthyAsync(dataRoot, withDashboard: false, extraArguments);

    /// <summary>
    /// As <see cref="StartHealthyAsync(string, string[])"/>; <paramref name="withDashboard"/> also runs the Aspire
    /// dashboard, which the testing host leaves out by default (the AppHost's launch profile settings are to be given
    /// in <paramref name="extraArguments"/>).
    /// </summary>
    public static async Task<(DistributedApplication App, TimeSpan TimeToHealthy)> StartHealthyAsync(
        string dataRoot, bool withDashboard, params string[] extraArguments)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--Infrastructure:Mode=processes", $"--Infrastructure:DataRoot={dataRoot}", .. extraArguments],
            (options, _) => options.DisableDashboard = !withDashboard,
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
            var settled = await Task.WhenAll(model.Resources.Where(StartsWithTheGraph).Select(resource => notifications.WaitForResourceAsync(
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

    /// <summary>False for a resource started only on demand (the load generator), which never comes up by itself.</summary>
    public static bool StartsWithTheGraph(IResource resource) => !resource.Annotations.OfType<ExplicitStartupAnnotation>().Any();

    private static bool HasFailed(ResourceEvent e)
        => e.Snapshot.State?.Text is "FailedToStart" or "Exited" or "Finished" && !e.Snapshot.IsHidden;

    /// <summary>The last lines a resource of the running graph has logged so far.</summary>
    public static async Task<string> LogTailAsync(this DistributedApplication app, string resourceName, int lineCount = 30)
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

        return string.Join('\n', lines.TakeLast(lineCount));
    }

    private static readonly string[] Services = ["catalog-api", "ordering-api", "ordering-worker", "web-blazor"];

    /// <summary>
    /// Stops a resource of the running graph (every replica of it) and waits until it has stopped. Disposing the result
    /// starts it again and waits until it and every service are healthy, so the next test finds the graph whole.
    /// </summary>
    public static async Task<IAsyncDisposable> StopAsync(this DistributedApplication app, string resource)
    {
        var instances = await InstancesAsync(app, resource);
        Assert.NotEmpty(instances);
        var commands = app.Services.GetRequiredService<ResourceCommandService>();
        foreach (var instance in instances)
        {
            var stop = await commands.ExecuteCommandAsync(instance, KnownResourceCommands.StopCommand);
            Assert.True(stop.Success, stop.Message);
        }

        await UntilEveryAsync(app, instances, e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), TimeSpan.FromMinutes(1));
        return new Restart(app, instances);
    }

    private sealed class Restart(DistributedApplication app, IReadOnlyList<string> instances) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            var commands = app.Services.GetRequiredService<ResourceCommandService>();
            foreach (var instance in instances)
            {
                var start = await commands.ExecuteCommandAsync(instance, KnownResourceCommands.StartCommand);
                Assert.True(start.Success, start.Message);
            }

            await UntilEveryAsync(app, instances, e => e.Snapshot.HealthStatus == HealthStatus.Healthy, TimeSpan.FromMinutes(2));
            var notifications = app.Services.GetRequiredService<ResourceNotificationService>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            foreach (var service in Services)
            {
                await notifications.WaitForResourceAsync(service, e => e.Snapshot.HealthStatus == HealthStatus.Healthy, timeout.Token);
            }
        }
    }

    /// <summary>The resource's instances: one per replica (waiting on a replica by name does not match, so callers poll).</summary>
    private static async Task<IReadOnlyList<string>> InstancesAsync(DistributedApplication app, string resource)
    {
        var instances = new SortedSet<string>(StringComparer.Ordinal);
        using var enough = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await foreach (var e in app.Services.GetRequiredService<ResourceNotificationService>().WatchAsync(enough.Token))
            {
                if (e.Resource.Name == resource && !e.Snapshot.IsHidden)
                {
                    instances.Add(e.ResourceId);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The replay is over; the stream stays open while the application runs.
        }

        return [.. instances];
    }

    private static async Task UntilEveryAsync(DistributedApplication app, IReadOnlyList<string> instances, Func<ResourceEvent, bool> condition, TimeSpan timeout)
    {
        var notifications = app.Services.GetRequiredService<ResourceNotificationService>();
        await Eventually.TrueAsync(() => instances.All(instance => notifications.TryGetCurrentState(instance, out var e) && condition(e)),
            timeout, $"{string.Join(", ", instances)} did not get there", TimeSpan.FromMilliseconds(200));
    }

    /// <summary>
    /// The running, healthy replicas of a service, each with its own HTTP address (not the shared proxy's), in name
    /// order. The notification stream replays every resource's latest state first, which is all this reads.
    /// </summary>
    public static async Task<IReadOnlyList<(string Id, Uri Http)>> RunningReplicasAsync(this DistributedApplication app, string service)
    {
        var replicas = new Dictionary<string, Uri>();
        using var enough = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await foreach (var e in app.Services.GetRequiredService<ResourceNotificationService>().WatchAsync(enough.Token))
            {
                var http = (e.Snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value ?? "").Split(';')
                    .Select(url => Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp ? uri : null)
                    .FirstOrDefault(uri => uri is not null);
                if (e.Resource.Name == service && e.Snapshot.State?.Text == KnownResourceStates.Running
                    && e.Snapshot.HealthStatus == HealthStatus.Healthy && http is not null)
                {
                    replicas[e.ResourceId] = http;
                }
                else
                {
                    replicas.Remove(e.ResourceId);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The replay is over; the stream stays open while the application runs.
        }

        return [.. replicas.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Value))];
    }

    /// <summary>
    /// The connection strings each running replica of <paramref name="service"/> was given, by name
    /// (<c>ConnectionStrings__&lt;name&gt;</c>); at least one replica.
    /// </summary>
    public static async Task<IReadOnlyList<IReadOnlyDictionary<string, string>>> ReplicaConnectionStringsAsync(this DistributedApplication app, string service)
    {
        const string prefix = "ConnectionStrings__";
        var replicas = await app.RunningReplicasAsync(service);
        Assert.NotEmpty(replicas);
        var notifications = app.Services.GetRequiredService<ResourceNotificationService>();
        return [.. replicas.Select(replica =>
        {
            Assert.True(notifications.TryGetCurrentState(replica.Id, out var state));
            return (IReadOnlyDictionary<string, string>)state.Snapshot.EnvironmentVariables
                .Where(variable => variable.Name.StartsWith(prefix, StringComparison.Ordinal) && variable.Value is not null)
                .ToDictionary(variable => variable.Name[prefix.Length..], variable => variable.Value!);
        })];
    }

    public static void DeleteDataRoot(string dataRoot)
    {
        if (Directory.Exists(dataRoot))
        {
            Directory.Delete(dataRoot, recursive: true);
        }
    }
}
