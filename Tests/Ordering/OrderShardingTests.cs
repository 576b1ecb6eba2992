using System.Collections.Concurrent;
using System.Net;
using AspireShop.Ordering.Sharding;
using Npgsql;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>Orders spread over two shards by buyer, found by id alone, and a bucket moved while orders keep coming.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class OrderShardingTests(ShopGraphFixture graph) : OrderShardingSteps(graph)
{
    [Fact]
    public async Task TwoThousandOrdersFrom200BuyersAreSpreadOverBothShardsAndFoundById()
    {
        Assert.Equal(2, OrderShardDatabases.Count(Graph.App));
        var products = await ProductsAsync();
        var buyers = Enumerable.Range(0, 200).Select(i => $"spread-{i}-{Guid.NewGuid():N}").ToList();
        var placed = new ConcurrentBag<(string Buyer, Guid Id)>();
        await Parallel.ForEachAsync(buyers, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (buyer, ct) =>
        {
            using var client = await BuyerTokens.ClientForAsync(Graph.App, buyer);
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
            await using var connection = new NpgsqlConnection(await OrderShardDatabases.ConnectionStringAsync(Graph.App, shard));
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
            using var client = await BuyerTokens.ClientForAsync(Graph.App, buyer.Key);
            foreach (var (_, id) in buyer)
            {
                using var response = await client.GetAsync($"/api/v1/orders/{id}", ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        });

        await WaitUntilDecidedAsync(ids);
    }
}
