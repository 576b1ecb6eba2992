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
            // Hidden resources (such as the rebuilders Aspire adds for projects) are not started and never report health.
            await Task.WhenAll(model.Resources.Select(resource => notifications.WaitForResourceAsync(
                resource.Name,
                e => e.Snapshot.IsHidden || e.Snapshot.HealthStatus == HealthStatus.Healthy,
                timeout.Token)));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return (app, clock.Elapsed);
    }

    public static void DeleteDataRoot(string dataRoot)
    {
        if (Directory.Exists(dataRoot))
        {
            Directory.Delete(dataRoot, recursive: true);
        }
    }
}
