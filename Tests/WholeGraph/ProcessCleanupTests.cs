using AspireShop.Hosting.Processes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace Tests.WholeGraph;

/// <summary>
/// Owns its graph (it has to stop it): the default Lean topology, with two catalog standbys to show the replica count
/// is configurable.
/// </summary>
public sealed class ProcessCleanupTests(ITestOutputHelper output)
{
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

                // Lean: one of each service, started from its build output, one order shard without standbys.
                var names = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.Select(r => r.Name).ToHashSet();
                Assert.Contains("orders-shard1", names);
                Assert.DoesNotContain("orders-shard2", names);
                Assert.DoesNotContain("orders-shard1-replica1", names);
                foreach (var (service, assembly) in new[] { ("catalog-api", "Catalog.Api.dll"), ("ordering-api", "Ordering.Api.dll"), ("ordering-worker", "Ordering.Worker.dll"), ("web-blazor", "Web.Blazor.dll") })
                {
                    var replica = Assert.Single(await app.RunningReplicasAsync(service));
                    Assert.True(app.Services.GetRequiredService<ResourceNotificationService>().TryGetCurrentState(replica.Id, out var state));
                    var pid = state.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value;
                    var commandLine = (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Split('\0');
                    Assert.Equal(["dotnet", assembly], [Path.GetFileName(commandLine[0]), Path.GetFileName(commandLine[1])]);
                }

                var running = BackingProcesses.Using(dataRoot).Select(p => p.Name).ToList();
                output.WriteLine($"Running: {string.Join(", ", running.Distinct())}");
                Assert.Contains("redis-server", running);
                Assert.Contains("beam.smp", running);
                Assert.Contains("epmd", running);
                Assert.True(running.Count(name => name == "postgres") >= 3, "expected a primary and two standbys");

                await app.StopAsync();
            }

            // Once the graph is stopped and disposed, nothing is left, at once (a stopped AppHost process waits for
            // its servers too: SetupProblemTests), so a start right after this one finds the data folder free.
            var left = BackingProcesses.Using(dataRoot);
            Assert.True(left.Count == 0, $"left running when the AppHost returned: {string.Join(", ", left.Select(p => $"{p.Name} ({p.Id})"))}");
        }
        finally
        {
            ShopGraph.DeleteDataRoot(dataRoot);
        }
    }
}
