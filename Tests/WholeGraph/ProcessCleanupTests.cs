using AspireShop.AppHost.Infrastructure.Processes;
using Npgsql;
using Xunit.Abstractions;

namespace Tests.WholeGraph;

/// <summary>Owns its graph (it has to stop it), started with two standbys to show the replica count is configurable.</summary>
public sealed class ProcessCleanupTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task StoppedAppHostLeavesNoServerProcessesBehind()
    {
        var dataRoot = ShopGraph.NewDataRoot();
        try
        {
            var (app, timeToHealthy) = await ShopGraph.StartHealthyAsync(dataRoot, "--Infrastructure:PostgresReplicas=2");
            output.WriteLine($"Healthy with two standbys after {timeToHealthy.TotalSeconds:F1} s.");

            await using (app)
            {
                var readers = new NpgsqlConnectionStringBuilder(await app.GetConnectionStringAsync("catalogdb-replica"));
                Assert.Equal(3, readers.Host!.Split(',').Length); // two standbys, then the primary as a fallback

                var running = BackingProcesses.Using(dataRoot).Select(p => p.Name).ToList();
                output.WriteLine($"Running: {string.Join(", ", running.Distinct())}");
                Assert.Contains("redis-server", running);
                Assert.Contains("beam.smp", running);
                Assert.Contains("epmd", running);
                Assert.True(running.Count(name => name == "postgres") >= 3, "expected a primary and two standbys");

                await app.StopAsync();
            }

            var left = BackingProcesses.Using(dataRoot);
            var deadline = DateTime.UtcNow + StopWait;
            while (left.Count > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
                left = BackingProcesses.Using(dataRoot);
            }

            Assert.True(left.Count == 0, $"left running: {string.Join(", ", left.Select(p => $"{p.Name} ({p.Id})"))}");
        }
        finally
        {
            ShopGraph.DeleteDataRoot(dataRoot);
        }
    }
}
