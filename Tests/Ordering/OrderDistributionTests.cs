using System.Collections.Concurrent;
using System.Net;
using AspireShop.Ordering.Data;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>The orders on Citus: every ordering table distributed by buyer and co-located, buyers spread over the workers, each found on its shard.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class OrderDistributionTests(ShopGraphFixture graph) : OrderDistributionSteps(graph)
{
    [Fact]
    public async Task EveryOrderingTableIsDistributedByBuyerAndColocatedWithTheOrders()
    {
        var tables = await OrdersDatabase.RowsAsync(Graph.App,
            "SELECT table_name::text, distribution_column, colocation_id, shard_count FROM citus_tables WHERE table_name::text LIKE 'ordering.%'",
            reader => (Table: reader.GetString(0), Column: reader.GetString(1), Colocation: reader.GetInt32(2), Shards: reader.GetInt32(3)));

        Assert.Equal(
            new[] { OrderingDbContext.Tables.Inbox, OrderingDbContext.Tables.MailOwed, OrderingDbContext.Tables.OrderLines, OrderingDbContext.Tables.Orders, OrderingDbContext.Tables.Outbox },
            tables.Select(t => t.Table).Order());
        Assert.All(tables, table => Assert.Equal(OrderingDbContext.Distribution.Column, table.Column));
        Assert.All(tables, table => Assert.Equal(OrderingDbContext.Distribution.ShardCount, table.Shards));
        Assert.Single(tables.Select(t => t.Colocation).Distinct());
        await AssertOnePlacementPerShardAsync();
    }

    [Fact]
    public async Task TwoThousandOrdersFrom200BuyersAreSpreadOverBothWorkersAndEachBuyersRowsShareOneShard()
    {
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
        await WaitUntilDecidedAsync(ids);

        // Where each buyer's rows are, table by table, as Citus places them: the worker of the shard each row's buyer
        // hashes to, read from the shards themselves (run_command_on_placements), not from the metadata alone.
        var perWorker = new Dictionary<string, long>();
        foreach (var table in new[] { OrderingDbContext.Tables.Orders, OrderingDbContext.Tables.OrderLines, OrderingDbContext.Tables.Outbox, OrderingDbContext.Tables.Inbox })
        {
            var rows = await OrdersDatabase.RowsAsync(Graph.App, $"""
                SELECT nodename || ':' || nodeport, result FROM run_command_on_placements('{table}',
                    $$SELECT count(*) FROM %s WHERE "BuyerId" LIKE 'spread-%%'$$)
                """, reader => (Node: reader.GetString(0), Rows: long.Parse(reader.GetString(1), System.Globalization.CultureInfo.InvariantCulture)));
            Assert.True(rows.Sum(r => r.Rows) >= 2000, $"{table} holds {rows.Sum(r => r.Rows)} rows of the 2,000 orders");
            if (table == OrderingDbContext.Tables.Orders)
            {
                Assert.Equal(2000, rows.Sum(r => r.Rows));
                perWorker = rows.GroupBy(r => r.Node).ToDictionary(g => g.Key, g => g.Sum(r => r.Rows));
            }
        }

        // Both workers hold a fair part (each 25-75%: four shards of a hash of 200 buyers).
        Assert.Equal(2, perWorker.Count);
        Assert.All(perWorker.Values, orders => Assert.InRange(orders, 500, 1500));

        // Each buyer's order, lines, message and its inbox row are on one shard, the buyer's: a join of the four on the
        // buyer runs inside each shard (Citus pushes it down to the workers), and finds every one of them.
        var joined = await OrdersDatabase.SumAsync(Graph.App, """
            SELECT count(*) FROM ordering.orders o
            JOIN ordering.order_lines l ON l."BuyerId" = o."BuyerId" AND l."OrderId" = o."Id"
            JOIN ordering.outbox m ON m."BuyerId" = o."BuyerId" AND m."Payload"->>'orderId' = o."Id"::text
            JOIN ordering.inbox i ON i."BuyerId" = m."BuyerId" AND i."MessageId" = m."MessageId"
            WHERE o."Id" = ANY(@ids)
            """, ("ids", ids));
        Assert.Equal(2000, joined);

        // Every order is found through the API by its buyer, who alone may read it.
        await Parallel.ForEachAsync(placed.GroupBy(p => p.Buyer), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (buyer, ct) =>
        {
            using var client = await BuyerTokens.ClientForAsync(Graph.App, buyer.Key);
            foreach (var (_, id) in buyer)
            {
                using var response = await client.GetAsync($"/api/v1/orders/{id}", ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        });
    }
}
