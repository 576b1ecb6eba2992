using System.Net;
using System.Net.Http.Json;
using AspireShop.Contracts;
using Ordering.Api.Orders;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>What the distribution and shard move tests share: products with stock to spare, orders, the cluster's shards, the operator's endpoints.</summary>
public abstract class OrderDistributionSteps(ShopGraphFixture graph)
{
    protected ShopGraphFixture Graph { get; } = graph;

    protected static readonly AddressRequest Address = new("3 Shard Lane", "York", "YO1 7HH", "United Kingdom");

    /// <summary>Products of the test's own, with stock for every order it places.</summary>
    protected Task<int[]> ProductsAsync() => TestProducts.CreateManyAsync(Graph.App, 10, stock: 1_000_000);

    /// <summary>
    /// Submits an order as a client that honours 503 does: while the orders cannot be reached for longer than the API
    /// waits, the same order is sent again with the same key, which can only ever make one order.
    /// </summary>
    protected static async Task<OrderDto> SubmitAsync(HttpClient buyer, int productId, string idempotencyKey)
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

    protected Task WaitUntilDecidedAsync(Guid[] ids)
        => Eventually.TrueAsync(async () => await OrdersDatabase.SumAsync(Graph.App,
                """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "Status" = 'Submitted'""", ("ids", ids)) == 0,
            TimeSpan.FromMinutes(2), "every order decided", TimeSpan.FromMilliseconds(250));

    /// <summary>Ordering.Api's operator endpoints, with the AppHost's operations key.</summary>
    protected async Task<HttpClient> OperatorAsync()
    {
        var client = Graph.App.CreateHttpClient(ResourceNames.OrderingApi);
        client.Timeout = TimeSpan.FromMinutes(3);
        client.DefaultRequestHeaders.Add(OperationsAccess.KeyHeader, await SignedTestTokens.ParameterValueAsync(Graph.App, OperationsAccess.KeyParameter));
        return client;
    }

    /// <summary>Every placement of the ordering tables' shards: (shard, node, the shard's hash range start) for each, whatever table.</summary>
    protected Task<List<(long Shard, string Node, string Range)>> PlacementsAsync()
        => OrdersDatabase.RowsAsync(Graph.App, """
            SELECT p.shardid, n.nodename || ':' || n.nodeport, s.shardminvalue FROM pg_dist_placement p
            JOIN pg_dist_node n ON n.groupid = p.groupid JOIN pg_dist_shard s ON s.shardid = p.shardid
            WHERE s.logicalrelid::text LIKE 'ordering.%'
            """, reader => (reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));

    /// <summary>The worker (host:port) holding a shard.</summary>
    protected async Task<string> NodeOfAsync(long shard) => (await PlacementsAsync()).Single(p => p.Shard == shard).Node;

    /// <summary>
    /// After any move, finished or not: every shard of every ordering table has exactly one placement, and the shards
    /// of one hash range (an order shard and its co-located lines, outbox, inbox and mail owed) are on one worker.
    /// </summary>
    protected async Task AssertOnePlacementPerShardAsync()
    {
        var placements = await PlacementsAsync();
        Assert.All(placements.GroupBy(p => p.Shard), shard => Assert.Single(shard));
        Assert.All(placements.GroupBy(p => p.Range), range => Assert.Single(range.Select(p => p.Node).Distinct()));
    }

    /// <summary>
    /// The buyers' orders as stored: per order id, how many rows carry it, how many inbox rows its message has (once
    /// processed: one) and its status.
    /// </summary>
    protected async Task<Dictionary<Guid, (long Copies, long Processed, string Status)>> OrdersOfAsync(string[] buyers)
    {
        var orders = await OrdersDatabase.RowsAsync(Graph.App, """
            SELECT "Id", "Status" FROM ordering.orders WHERE "BuyerId" = ANY(@buyers) AND "IdempotencyKey" NOT LIKE 'bulk-%'
            """, reader => (Id: reader.GetGuid(0), Status: reader.GetString(1)), ("buyers", buyers));
        var processed = await OrdersDatabase.RowsAsync(Graph.App, """
            SELECT (m."Payload"->>'orderId')::uuid FROM ordering.inbox i
            JOIN ordering.outbox m ON m."BuyerId" = i."BuyerId" AND m."MessageId" = i."MessageId"
            WHERE i."BuyerId" = ANY(@buyers)
            """, reader => reader.GetGuid(0), ("buyers", buyers));
        return orders.GroupBy(o => o.Id).ToDictionary(g => g.Key,
            g => ((long)g.Count(), (long)processed.Count(id => id == g.Key), g.First().Status));
    }

    /// <summary>Buyer ids of the test's own whose rows are on the given shard of the orders table.</summary>
    protected async Task<string[]> BuyersOnShardAsync(long shard, int count)
    {
        var buyers = new List<string>();
        while (buyers.Count < count)
        {
            var candidates = Enumerable.Range(0, 64).Select(_ => $"mover-{Guid.NewGuid():N}").ToArray();
            var shards = await OrdersDatabase.RowsAsync(Graph.App,
                "SELECT b, get_shard_id_for_distribution_column('ordering.orders', b) FROM unnest(@buyers) AS b",
                reader => (Buyer: reader.GetString(0), Shard: reader.GetInt64(1)), ("buyers", candidates));
            buyers.AddRange(shards.Where(s => s.Shard == shard).Select(s => s.Buyer));
        }

        return [.. buyers.Take(count)];
    }

    /// <summary>The shards of the orders table.</summary>
    protected async Task<long[]> OrderShardsAsync()
        => [.. (await OrdersDatabase.RowsAsync(Graph.App,
            "SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'ordering.orders'::regclass ORDER BY shardid", reader => reader.GetInt64(0)))];

    /// <summary>
    /// Makes the shard big enough that copying it takes seconds: orders of one bulk buyer, written straight into the
    /// table, decided and mailed already, so the workers have nothing to do with them. Returns the buyer.
    /// </summary>
    protected async Task<string> FillShardAsync(long shard, int orders)
    {
        var buyer = (await BuyersOnShardAsync(shard, 1))[0];
        await OrdersDatabase.ExecuteAsync(Graph.App, $"""
            INSERT INTO ordering.orders ("Id", "BuyerId", "IdempotencyKey", "BuyerName", "Email", "ShippingAddress_Street", "ShippingAddress_City",
                "ShippingAddress_PostalCode", "ShippingAddress_Country", "Status", "Total", "SubmittedAt", "CompletedAt", "MailSentAt")
            SELECT gen_random_uuid(), '{buyer}', 'bulk-' || i, 'Bulk Buyer', 'bulk@example.com', repeat('x', 150), 'York', 'YO1', 'United Kingdom',
                'Confirmed', 1, now(), now(), now()
            FROM generate_series(1, {orders}) AS i
            """);
        return buyer;
    }

    protected Task<long> BulkOrdersOfAsync(string buyer)
        => OrdersDatabase.SumAsync(Graph.App, """SELECT count(DISTINCT "Id") FROM ordering.orders WHERE "BuyerId" = @buyer""", ("buyer", buyer));

    /// <summary>Orders from the given buyers, one each per round, until stopped; returns every order id accepted.</summary>
    protected async Task<List<Guid>> KeepOrderingAsync(string[] buyers, int productId, CancellationToken stop)
    {
        var placed = new List<Guid>();
        var clients = new List<HttpClient>();
        try
        {
            foreach (var buyer in buyers)
            {
                clients.Add(await BuyerTokens.ClientForAsync(Graph.App, buyer));
            }

            while (!stop.IsCancellationRequested)
            {
                var orders = await Task.WhenAll(clients.Select(client => SubmitAsync(client, productId, Guid.NewGuid().ToString())));
                placed.AddRange(orders.Select(o => o.Id));
                await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
            }
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }

        return placed;
    }

    /// <summary>Waits until a shard move is running on the coordinator (Citus is copying), or fails after 30 s.</summary>
    protected Task WaitUntilMovingAsync()
        => Eventually.TrueAsync(async () => await OrdersDatabase.SumAsync(Graph.App,
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%citus_move_shard_placement%' AND pid <> pg_backend_pid()") > 0,
            TimeSpan.FromSeconds(30), "a shard move is running", TimeSpan.FromMilliseconds(20));

    /// <summary>Waits until no shard move runs any more and Citus has dropped what an unfinished one left.</summary>
    protected Task WaitUntilNoMoveAsync()
        => Eventually.TrueAsync(async () => await OrdersDatabase.SumAsync(Graph.App, """
                SELECT (SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%citus_move_shard_placement%' AND pid <> pg_backend_pid())
                     + (SELECT count(*) FROM pg_dist_cleanup)
                """) == 0,
            TimeSpan.FromMinutes(1), "no shard move left running, nothing left to clean up", TimeSpan.FromMilliseconds(200));
}
