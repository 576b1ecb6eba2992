using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AspireShop.Ordering.Sharding;
using Npgsql;
using Ordering.Api.Orders;
using Tests.Catalog;
using Tests.WholeGraph;
using Xunit.Abstractions;

namespace Tests.Ordering;

/// <summary>Orders spread over two shards by buyer, found by id alone, and a bucket moved while orders keep coming.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class OrderShardingTests(ShopGraphFixture graph, ITestOutputHelper log)
{
    private static readonly AddressRequest Address = new("3 Shard Lane", "York", "YO1 7HH", "United Kingdom");


    [Fact]
    public async Task TwoThousandOrdersFrom200BuyersAreSpreadOverBothShardsAndFoundById()
    {
        Assert.Equal(2, OrderShardDatabases.Count(graph.App));
        var products = await ProductsAsync();
        var buyers = Enumerable.Range(0, 200).Select(i => $"spread-{i}-{Guid.NewGuid():N}").ToList();
        var placed = new ConcurrentBag<(string Buyer, Guid Id)>();
        await Parallel.ForEachAsync(buyers, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (buyer, ct) =>
        {
            using var client = await BuyerTokens.ClientForAsync(graph.App, buyer);
            for (var i = 0; i < 10; i++)
            {
                placed.Add((buyer, (await SubmitAsync(client, products[i], Guid.NewGuid().ToString())).Id));
            }
        });
        Assert.Equal(2000, placed.Select(p => p.Id).Distinct().Count());

        var ids = placed.Select(p => p.Id).ToArray();
        var perShard = new List<(int Shard, string Buyer, long Orders)>();
        for (var shard = 1; shard <= 2; shard++)
        {
            await using var connection = new NpgsqlConnection(await OrderShardDatabases.ConnectionStringAsync(graph.App, shard));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                """SELECT "BuyerId", count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) GROUP BY "BuyerId" """, connection);
            command.Parameters.AddWithValue("ids", ids);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                perShard.Add((shard, reader.GetString(0), reader.GetInt64(1)));
            }
        }

        // Every order stored once, each shard holds 35-65% of them, and each buyer's orders are all on one shard.
        Assert.Equal(2000, perShard.Sum(row => row.Orders));
        foreach (var shard in new[] { 1, 2 })
        {
            Assert.InRange(perShard.Where(row => row.Shard == shard).Sum(row => row.Orders), 700, 1300);
        }

        Assert.All(perShard.GroupBy(row => row.Buyer), buyer => Assert.Single(buyer));
        Assert.Equal(200, perShard.Select(row => row.Buyer).Distinct().Count());

        // Every order is found by its id alone (the id names its bucket).
        await Parallel.ForEachAsync(placed.GroupBy(p => p.Buyer), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (buyer, ct) =>
        {
            using var client = await BuyerTokens.ClientForAsync(graph.App, buyer.Key);
            foreach (var (_, id) in buyer)
            {
                using var response = await client.GetAsync($"/api/v1/orders/{id}", ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        });

        await WaitUntilDecidedAsync(ids);
    }

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
            using var client = await BuyerTokens.ClientForAsync(graph.App, buyer);
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

        await Task.Delay(TimeSpan.FromSeconds(2));
        var (exitCode, output) = await RunShardsCommandAsync("move", "--bucket", $"{bucket}", "--to", $"{target}");
        Assert.True(exitCode == 0, output);
        log.WriteLine(output);
        await Task.Delay(TimeSpan.FromSeconds(2));
        await stop.CancelAsync();
        await load;

        Assert.Contains(accepted.Values, a => moving.Contains(a.Buyer));
        Assert.Equal(target, await OwnerOfAsync(bucket));
        var ids = accepted.Values.Select(a => a.Order.Id).ToArray();
        await WaitUntilDecidedAsync(ids);

        // Each accepted order is stored exactly once, with the total it was accepted with, decided once; the moved
        // bucket is entirely on its new shard; no buyer's key made two orders.
        var stored = await OrderShardDatabases.RowsAsync(graph.App,
            """SELECT "Id", "Total", "Status" FROM ordering.orders WHERE "Id" = ANY(@ids)""",
            reader => (Id: reader.GetGuid(0), Total: reader.GetDecimal(1), Status: reader.GetString(2)), ("ids", ids));
        Assert.Equal(ids.Length, stored.Count);
        Assert.Equal(ids.Length, await OrderShardDatabases.SumAsync(graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "BuyerId" = ANY(@buyers)""", ("buyers", moving.Concat(others).ToArray())));
        Assert.Equal(ids.Order(), stored.Select(s => s.Id).Order());
        var totals = accepted.Values.ToDictionary(a => a.Order.Id, a => a.Order.Total);
        Assert.All(stored, s => Assert.Equal(totals[s.Id], s.Total));
        Assert.All(stored, s => Assert.Equal("Confirmed", s.Status));
        Assert.Equal(0, await OrderShardDatabases.SumAsync(graph.App,
            $"""SELECT count(*) FROM ordering.orders o WHERE "Bucket" = {bucket} AND NOT EXISTS (SELECT 1 FROM ordering.owned_buckets b WHERE b."Bucket" = o."Bucket")"""));
        await using (var catalog = new NpgsqlConnection(await graph.App.GetConnectionStringAsync("catalogdb")))
        {
            await catalog.OpenAsync();
            await using var reservations = new NpgsqlCommand(
                """SELECT count(*) FROM sharding.stock_reservations WHERE "OrderId" = ANY(@ids) AND "Reserved" """, catalog);
            reservations.Parameters.AddWithValue("ids", ids);
            Assert.Equal((long)ids.Length, (long)(await reservations.ExecuteScalarAsync())!);
        }

        // And the buyers still find every one of their orders.
        foreach (var buyer in moving)
        {
            using var client = await BuyerTokens.ClientForAsync(graph.App, buyer);
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
        await using var shard = new NpgsqlConnection(await OrderShardDatabases.ConnectionStringAsync(graph.App, 1));
        await shard.OpenAsync();
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
        var replica = (await graph.App.RunningReplicasAsync("ordering-api"))[0].Http;
        using var frozenBuyer = await BuyerTokens.ClientForAsync(graph.App, BuyersIn(buckets[0], 1)[0]);
        using var otherBuyer = await BuyerTokens.ClientForAsync(graph.App, BuyersIn(buckets[1], 1)[0]);
        frozenBuyer.BaseAddress = otherBuyer.BaseAddress = replica;

        // The freeze of a bucket move, as BucketMover takes it: the bucket's lock exclusively, in an open transaction.
        Task<OrderDto> waiting;
        await using (var freeze = await shard.BeginTransactionAsync())
        {
            await using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({AspireShop.Contracts.AdvisoryLocks.BucketClass}, {buckets[0]})", shard, freeze))
            {
                await take.ExecuteNonQueryAsync();
            }

            waiting = SubmitAsync(frozenBuyer, products[0], Guid.NewGuid().ToString());
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            var other = SubmitAsync(otherBuyer, products[1], Guid.NewGuid().ToString());
            Assert.Same(other, await Task.WhenAny(other, Task.Delay(TimeSpan.FromSeconds(20))));
            await other;
            Assert.False(waiting.IsCompleted, "the frozen bucket's order was answered during the freeze");
            await freeze.RollbackAsync();
        }

        // Within the API's brief wait (about 5 s), the frozen bucket's order goes through once the freeze ends.
        Assert.Equal("Submitted", (await waiting).Status);
    }

    private static List<string> BuyersIn(int bucket, int count)
        => [.. Enumerable.Range(0, int.MaxValue).Select(i => $"mover-{i}-{Guid.NewGuid():N}").Where(b => OrderBuckets.Of(b) == bucket).Take(count)];

    private async Task<int> OwnerOfAsync(int bucket)
    {
        await using var catalog = new NpgsqlConnection(await graph.App.GetConnectionStringAsync("catalogdb"));
        await catalog.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "Shard" FROM sharding.bucket_map WHERE "Bucket" = @bucket""", catalog);
        command.Parameters.AddWithValue("bucket", bucket);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Products of the test's own, with stock for every order it places.</summary>
    private Task<int[]> ProductsAsync() => TestProducts.CreateManyAsync(graph.App, 10, stock: 1_000_000);

    private static async Task<OrderDto> SubmitAsync(HttpClient buyer, int productId, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
        {
            Content = JsonContent.Create(new SubmitOrderRequest([new(productId, 1)], "Ada Shard", "ada@example.com", Address)),
        };
        request.Headers.Add(OrdersApi.IdempotencyKeyHeader, idempotencyKey);
        using var response = await buyer.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<OrderDto>())!;
    }

    /// <summary>
    /// As a client that honours 503 does: while the bucket is frozen for longer than the API waits (a slow move on a
    /// busy machine), the same order is sent again with the same key, which can only ever make one order.
    /// </summary>
    private static async Task<OrderDto> SubmitRetryingAsync(HttpClient buyer, int productId, string idempotencyKey)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
            {
                Content = JsonContent.Create(new SubmitOrderRequest([new(productId, 1)], "Ada Shard", "ada@example.com", Address)),
            };
            request.Headers.Add(OrdersApi.IdempotencyKeyHeader, idempotencyKey);
            using var response = await buyer.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 10)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                continue;
            }

            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<OrderDto>())!;
        }
    }

    private Task WaitUntilDecidedAsync(Guid[] ids)
        => Eventually.TrueAsync(async () => await OrderShardDatabases.SumAsync(graph.App,
                """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "Status" = 'Submitted'""", ("ids", ids)) == 0,
            TimeSpan.FromMinutes(2), "every order decided", TimeSpan.FromMilliseconds(250));

    /// <summary>Runs the operator's command as an operator would: Ordering.Api's program with the shop's connection strings.</summary>
    private async Task<(int ExitCode, string Output)> RunShardsCommandAsync(params string[] arguments)
    {
        var program = Path.Combine(RepositoryPaths.Root, "Ordering.Api", "bin",
            Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/')))!, "net10.0", "Ordering.Api.dll");
        var start = new ProcessStartInfo("dotnet", [program, ShardsCommandVerb, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ConnectionStrings__catalogdb"] = await graph.App.GetConnectionStringAsync("catalogdb");
        for (var shard = 1; shard <= OrderShardDatabases.Count(graph.App); shard++)
        {
            start.Environment[$"ConnectionStrings__ordersdb-shard{shard}"] = await OrderShardDatabases.ConnectionStringAsync(graph.App, shard);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    private const string ShardsCommandVerb = global::Ordering.Api.Sharding.ShardsCommand.Verb;
}
