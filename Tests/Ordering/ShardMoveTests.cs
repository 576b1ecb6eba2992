using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Ordering.Api.Shards;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>
/// Order shards moved between the Citus workers while buyers keep ordering, the ways a move goes wrong in practice:
/// two started at once, a caller that goes away mid-copy, and the process driving the move killed mid-move. Whatever
/// happens, afterwards every shard has exactly one placement, every order of the moved shard is there exactly once, and
/// every order placed meanwhile is decided once.
/// </summary>
[Collection(ShopGraphCollection.Name)]
public sealed class ShardMoveTests(ShopGraphFixture graph) : OrderDistributionSteps(graph)
{
    /// <summary>Enough rows that copying the shard takes seconds on this machine, so a move can be caught mid-copy.</summary>
    private const int BulkOrders = 300_000;

    [Fact]
    public async Task TwoMovesOfOneShardStartedAtOnceMoveItOnceAndLoseNothing()
    {
        var shard = (await OrderShardsAsync())[0];
        await using var scenario = await MoveScenario.StartAsync(this, shard);
        using var ops = await OperatorAsync();

        var moves = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => ops.PostAsJsonAsync("/ops/shards/move", new ShardMoveRequest(shard, scenario.Target))));

        var answers = await Task.WhenAll(moves.Select(async m => $"{(int)m.StatusCode} {await m.Content.ReadAsStringAsync()}"));
        Assert.True(moves.Select(m => m.StatusCode).Order().SequenceEqual([HttpStatusCode.OK, HttpStatusCode.Conflict]), string.Join("\n", answers));
        Assert.Equal(scenario.Target, await NodeOfAsync(shard));
        await scenario.AssertNothingLostAsync();
        await MoveBackAsync(ops, shard, scenario.Source);
    }

    [Fact]
    public async Task AMoveWhoseCallerGoesAwayMidCopyLeavesTheShardWhereItWasAndLosesNothing()
    {
        var shard = (await OrderShardsAsync())[1];
        await using var scenario = await MoveScenario.StartAsync(this, shard);
        using var ops = await OperatorAsync();

        using var callerLeaves = new CancellationTokenSource();
        var move = ops.PostAsJsonAsync("/ops/shards/move", new ShardMoveRequest(shard, scenario.Target), callerLeaves.Token);
        await WaitUntilMovingAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        await callerLeaves.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => move);

        await WaitUntilNoMoveAsync();
        Assert.Equal(scenario.Source, await NodeOfAsync(shard));
        await scenario.AssertNothingLostAsync();

        // Nothing the cancelled move left behind stands in the way of the next one.
        using var moved = await ops.PostAsJsonAsync("/ops/shards/move", new ShardMoveRequest(shard, scenario.Target));
        Assert.True(moved.StatusCode == HttpStatusCode.OK, await moved.Content.ReadAsStringAsync());
        await AssertOnePlacementPerShardAsync();
        await MoveBackAsync(ops, shard, scenario.Source);
    }

    [Fact]
    public async Task AMoveWhoseDriverIsKilledMidMoveEndsWithOnePlacementAndLosesNothing()
    {
        var shard = (await OrderShardsAsync())[2];
        await using var scenario = await MoveScenario.StartAsync(this, shard);

        // The driver is a client session of the coordinator, as Ordering.Api's is for the dashboard's drill: psql here,
        // killed outright mid-move, so its connection just ends.
        var connection = new NpgsqlConnectionStringBuilder(await OrdersDatabase.ConnectionStringAsync(Graph.App));
        var (fromHost, fromPort) = Split(scenario.Source);
        var (toHost, toPort) = Split(scenario.Target);
        var start = new ProcessStartInfo("psql",
            ["-X", "-h", connection.Host!, "-p", connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", connection.Username!,
             "-d", connection.Database!, "-c", $"SELECT citus_move_shard_placement({shard}, '{fromHost}', {fromPort}, '{toHost}', {toPort})"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PGPASSWORD"] = connection.Password;
        using (var driver = Process.Start(start)!)
        {
            await WaitUntilMovingAsync();
            await Task.Delay(TimeSpan.FromSeconds(1));
            driver.Kill();
            await driver.WaitForExitAsync();
        }

        // The coordinator notices the lost client within a second and ends the move, or it had just finished: either
        // way one placement, and the orders all there.
        await WaitUntilNoMoveAsync();
        Assert.Contains(await NodeOfAsync(shard), new[] { scenario.Source, scenario.Target });
        await scenario.AssertNothingLostAsync();
        if (await NodeOfAsync(shard) != scenario.Source)
        {
            using var ops = await OperatorAsync();
            await MoveBackAsync(ops, shard, scenario.Source);
        }
    }

    private async Task MoveBackAsync(HttpClient ops, long shard, string node)
    {
        using var back = await ops.PostAsJsonAsync("/ops/shards/move", new ShardMoveRequest(shard, node));
        Assert.True(back.StatusCode == HttpStatusCode.OK, await back.Content.ReadAsStringAsync());
        await AssertOnePlacementPerShardAsync();
    }

    private static (string Host, int Port) Split(string node)
        => (node[..node.LastIndexOf(':')], int.Parse(node[(node.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// A shard made big, with buyers on it and on the other shards ordering throughout; disposing stops the orders
    /// and removes the bulk rows.
    /// </summary>
    private sealed class MoveScenario : IAsyncDisposable
    {
        private readonly ShardMoveTests _test;
        private readonly CancellationTokenSource _stop = new();
        private string _bulkBuyer = "";
        private string[] _buyers = [];
        private Task<List<Guid>> _ordering = Task.FromResult(new List<Guid>());

        private MoveScenario(ShardMoveTests test) => _test = test;

        public string Source { get; private set; } = "";

        public string Target { get; private set; } = "";

        public static async Task<MoveScenario> StartAsync(ShardMoveTests test, long shard)
        {
            var scenario = new MoveScenario(test);
            scenario.Source = await test.NodeOfAsync(shard);
            scenario.Target = (await test.PlacementsAsync()).Select(p => p.Node).Distinct().Single(node => node != scenario.Source);
            scenario._bulkBuyer = await test.FillShardAsync(shard, BulkOrders);
            var others = (await test.OrderShardsAsync()).Where(s => s != shard).First();
            scenario._buyers = [.. await test.BuyersOnShardAsync(shard, 6), .. await test.BuyersOnShardAsync(others, 2)];
            var product = (await test.ProductsAsync())[0];
            scenario._ordering = test.KeepOrderingAsync(scenario._buyers, product, scenario._stop.Token);
            return scenario;
        }

        /// <summary>Stops the orders, waits for their decisions, and checks every order of the scenario is there once, decided once.</summary>
        public async Task AssertNothingLostAsync()
        {
            await _stop.CancelAsync();
            var placed = await _ordering;
            Assert.NotEmpty(placed);
            await _test.WaitUntilDecidedAsync([.. placed]);

            await _test.AssertOnePlacementPerShardAsync();
            Assert.Equal(BulkOrders, await _test.BulkOrdersOfAsync(_bulkBuyer));
            var stored = await _test.OrdersOfAsync(_buyers);
            Assert.Equal(placed.Order(), stored.Keys.Order());
            Assert.All(stored, order =>
            {
                Assert.Equal(1, order.Value.Copies);
                Assert.Equal(1, order.Value.Processed);
                Assert.NotEqual("Submitted", order.Value.Status);
            });
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _ordering;
            await OrdersDatabase.ExecuteAsync(_test.Graph.App, $"""DELETE FROM ordering.orders WHERE "BuyerId" = '{_bulkBuyer}'""");
            _stop.Dispose();
        }
    }
}
