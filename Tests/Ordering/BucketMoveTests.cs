using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using AspireShop.Ordering.Sharding;
using Npgsql;
using Ordering.Api.Orders;
using Tests.WholeGraph;
using Xunit.Abstractions;

namespace Tests.Ordering;

/// <summary>A bucket of buyers' orders moved, or frozen as a move freezes it, while orders keep coming.</summary>
[Collection(FaultGraphCollection.Name)]
public sealed class BucketMoveTests(FaultGraphFixture graph, ITestOutputHelper log) : OrderShardingSteps(graph)
{
    [Fact]
    public async Task ABucketMovedWhileItsBuyersKeepOrderingLosesAndDuplicatesNothing()
    {
        var products = await ProductsAsync();
        const int bucket = 17;
        var moving = BuyersIn(bucket, 6);
        var others = BuyersIn((bucket + 1) % OrderBuckets.Count, 2);
        var source = await OwnerOfAsync(bucket);
        var target = source == 1 ? 2 : 1;

        // Buyers keep ordering (and sending each order twice, as a retrying client does) through the whole move.
        var accepted = new ConcurrentDictionary<string, (string Buyer, OrderDto Order)>();
        using var stop = new CancellationTokenSource();
        var load = Task.WhenAll(moving.Concat(others).Select(async buyer =>
        {
            using var client = await BuyerTokens.ClientForAsync(Graph.App, buyer);
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var key = $"{buyer}-{n++}";
                var first = await SubmitRetryingAsync(client, products[n % products.Length], key);
                var again = await SubmitRetryingAsync(client, products[n % products.Length], key);
                Assert.Equal(first.Id, again.Id);
                accepted[key] = (buyer, first);
                // Below the per-buyer rate limit (50 requests/s).
                await Task.Delay(50);
            }
        }));

        // The move starts once every moving buyer has orders on the old shard, and the load stops once every one of
        // them has ordered again on the new one.
        int AcceptedOf(string buyer) => accepted.Values.Count(a => a.Buyer == buyer);
        await Eventually.TrueAsync(() => load.IsCompleted || moving.All(buyer => AcceptedOf(buyer) >= 3), TimeSpan.FromMinutes(1),
            "every moving buyer's first orders are accepted");
        var (exitCode, output) = await RunShardsCommandAsync("move", "--bucket", $"{bucket}", "--to", $"{target}");
        Assert.True(exitCode == 0, output);
        log.WriteLine(output);
        var beforeSwitch = moving.ToDictionary(buyer => buyer, AcceptedOf);
        await Eventually.TrueAsync(() => load.IsCompleted || moving.All(buyer => AcceptedOf(buyer) >= beforeSwitch[buyer] + 3), TimeSpan.FromMinutes(1),
            "every moving buyer's orders are accepted after the move");
        await stop.CancelAsync();
        await load;

        Assert.Contains(accepted.Values, a => moving.Contains(a.Buyer));
        Assert.Equal(target, await OwnerOfAsync(bucket));
        var ids = accepted.Values.Select(a => a.Order.Id).ToArray();
        await WaitUntilDecidedAsync(ids);

        // Each accepted order is stored exactly once, with the total it was accepted with, decided once; the moved
        // bucket is entirely on its new shard; no buyer's key made two orders.
        var stored = await OrderShardDatabases.RowsAsync(Graph.App,
            """SELECT "Id", "Total", "Status" FROM ordering.orders WHERE "Id" = ANY(@ids)""",
            reader => (Id: reader.GetGuid(0), Total: reader.GetDecimal(1), Status: reader.GetString(2)), ("ids", ids));
        Assert.Equal(ids.Length, stored.Count);
        Assert.Equal(ids.Length, await OrderShardDatabases.SumAsync(Graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "BuyerId" = ANY(@buyers)""", ("buyers", moving.Concat(others).ToArray())));
        Assert.Equal(ids.Order(), stored.Select(s => s.Id).Order());
        var totals = accepted.Values.ToDictionary(a => a.Order.Id, a => a.Order.Total);
        Assert.All(stored, s => Assert.Equal(totals[s.Id], s.Total));
        Assert.All(stored, s => Assert.Equal("Confirmed", s.Status));
        Assert.Equal(0, await OrderShardDatabases.SumAsync(Graph.App,
            $"""SELECT count(*) FROM ordering.orders o WHERE "Bucket" = {bucket} AND NOT EXISTS (SELECT 1 FROM ordering.owned_buckets b WHERE b."Bucket" = o."Bucket")"""));
        await using (var catalog = new NpgsqlConnection(await Graph.App.GetConnectionStringAsync("catalogdb")))
        {
            await catalog.OpenAsync();
            await using var reservations = new NpgsqlCommand(
                """SELECT count(*) FROM stock_reservations WHERE "OrderId" = ANY(@ids) AND "Reserved" """, catalog);
            reservations.Parameters.AddWithValue("ids", ids);
            Assert.Equal((long)ids.Length, (long)(await reservations.ExecuteScalarAsync())!);
        }

        // And the buyers still find every one of their orders.
        foreach (var buyer in moving)
        {
            using var client = await BuyerTokens.ClientForAsync(Graph.App, buyer);
            var listed = (await client.GetFromJsonAsync<List<OrderDto>>("/api/v1/orders"))!;
            var theirs = accepted.Values.Where(a => a.Buyer == buyer).Select(a => a.Order.Id).ToHashSet();
            Assert.Equal(Math.Min(50, theirs.Count), listed.Count);
            Assert.All(listed, order => Assert.Contains(order.Id, theirs));
        }
    }

    [Fact]
    public async Task AFrozenBucketHoldsUpOnlyItsOwnOrdersNotTheOthersOfItsShard()
    {
        var products = await ProductsAsync();
        await using var shard = new NpgsqlConnection(await OrderShardDatabases.ConnectionStringAsync(Graph.App, 1));
        await shard.OpenAsync();
        await using (var statistics = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", shard))
        {
            await statistics.ExecuteNonQueryAsync();
        }

        var buckets = new List<int>();
        await using (var owned = new NpgsqlCommand("""SELECT "Bucket" FROM ordering.owned_buckets ORDER BY "Bucket" LIMIT 2""", shard))
        await using (var reader = await owned.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                buckets.Add(reader.GetInt32(0));
            }
        }

        // Both orders go to one replica, so to one intake writer for the shard: the test is whether that writer's
        // batches go on while one bucket is frozen.
        var replica = (await Graph.App.RunningReplicasAsync("ordering-api"))[0].Http;
        using var frozenBuyer = await BuyerTokens.ClientForAsync(Graph.App, BuyersIn(buckets[0], 1)[0]);
        using var otherBuyer = await BuyerTokens.ClientForAsync(Graph.App, BuyersIn(buckets[1], 1)[0]);
        frozenBuyer.BaseAddress = otherBuyer.BaseAddress = replica;

        // The freeze of a bucket move, as BucketMover takes it: the bucket's lock exclusively, in an open transaction.
        Task<OrderDto> waiting;
        await using (var freeze = await shard.BeginTransactionAsync())
        {
            await using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({BucketOwnership.LockClass}, {buckets[0]})", shard, freeze))
            {
                await take.ExecuteNonQueryAsync();
            }

            // The frozen buyer's order reaches the writer first, which tries its bucket, finds it frozen, and tries it
            // again: PostgreSQL's count of the try-lock statement shows both tries, so the order is held in the writer
            // (not still on its way) when the other buyer's order comes.
            var triesBefore = await BucketTriesAsync(shard);
            waiting = SubmitAsync(frozenBuyer, products[0], Guid.NewGuid().ToString());
            await Eventually.TrueAsync(async () => waiting.IsCompleted || await BucketTriesAsync(shard) >= triesBefore + 2, TimeSpan.FromSeconds(20),
                "the writer tried the frozen bucket and tried it again");
            var other = SubmitAsync(otherBuyer, products[1], Guid.NewGuid().ToString());
            Assert.Same(other, await Task.WhenAny(other, Task.Delay(TimeSpan.FromSeconds(20))));
            await other;
            Assert.False(waiting.IsCompleted, "the frozen bucket's order was answered during the freeze");
            await freeze.RollbackAsync();
        }

        // Within the API's brief wait (about 5 s), the frozen bucket's order goes through once the freeze ends.
        Assert.Equal("Submitted", (await waiting).Status);
    }

    /// <summary>How often the shard has run the try-lock that batches take their buckets with (pg_stat_statements).</summary>
    private static async Task<long> BucketTriesAsync(NpgsqlConnection shard)
    {
        await using var count = new NpgsqlCommand(
            """
            SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query LIKE '%pg_try_advisory_xact_lock_shared%'
            """, shard);
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
