using System.Net;
using System.Net.Http.Json;
using AspireShop.Contracts;
using AspireShop.Ordering.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Ordering.Api.Orders;
using Ordering.Worker.Mail;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>Orders processed while the graph is broken on purpose: a worker killed mid-run, the workers stopped while a poison batch queues.</summary>
[Collection(FaultGraphCollection.Name)]
public sealed class OrderProcessingFaultTests(FaultGraphFixture graph) : OrderProcessingSteps(graph)
{
    [Fact]
    public async Task AThousandOrdersThroughAWorkerKilledMidRunAreEachDecidedAndMailedOnce()
    {
        // Plenty of stock for half the products and little for the other half, so orders are both confirmed and rejected.
        int[] products = [.. await TestProducts.CreateManyAsync(Graph.App, 5, stock: 5_000), .. await TestProducts.CreateManyAsync(Graph.App, 5, stock: 60)];

        var initialStock = new Dictionary<int, int>();
        foreach (var productId in products)
        {
            initialStock[productId] = await StockAsync(productId);
        }

        var buyers = new List<(string Id, HttpClient Client)>();
        for (var i = 0; i < 40; i++)
        {
            var id = $"crash-buyer-{Guid.NewGuid():N}";
            buyers.Add((id, await BuyerTokens.ClientForAsync(Graph.App, id)));
        }

        const int orderCount = 1_000;
        var random = new Random(20261128);
        var carts = Enumerable.Range(0, orderCount).Select(i => (
            Buyer: buyers[i % buyers.Count],
            Lines: products.OrderBy(_ => random.Next()).Take(1 + random.Next(2)).Select(p => new OrderLineRequest(p, 1 + random.Next(3))).ToList()))
            .ToList();

        var victim = (await WorkerReplicaNamesAsync())[0];
        var placed = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        var killAt = orderCount / 3;
        var killed = new TaskCompletionSource();
        var submitting = Parallel.ForEachAsync(carts, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (cart, ct) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
            {
                Content = JsonContent.Create(new SubmitOrderRequest(cart.Lines, "Grace Hopper", "grace@example.com", Address)),
            };
            request.Headers.Add(OrdersApi.IdempotencyKeyHeader, Guid.NewGuid().ToString());
            using var response = await cart.Buyer.Client.SendAsync(request, ct);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            placed.Add((await response.Content.ReadFromJsonAsync<OrderDto>(ct))!.Id);
            if (placed.Count == killAt)
            {
                killed.TrySetResult();
            }
        });

        // Mid-run, once the worker is busy: SIGKILL (no shutdown, unacknowledged messages and maybe an open
        // transaction), then start the replica again while orders keep coming.
        await killed.Task.WaitAsync(TimeSpan.FromMinutes(2));
        await KillAndRestartAsync(victim);
        await submitting;
        foreach (var (_, client) in buyers)
        {
            client.Dispose();
        }

        Assert.Equal(orderCount, placed.Distinct().Count());
        await WaitUntilDecidedAsync(placed, TimeSpan.FromMinutes(3));

        var ids = placed.ToArray();
        // Decided exactly once: one final status per order (on whichever shards), one stock decision per order in the
        // ledger, and every order confirmed exactly when the ledger reserved its stock.
        Assert.Equal(orderCount, await OrderShardDatabases.SumAsync(Graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "Status" IN ('Confirmed', 'Rejected')""", ("ids", ids)));
        var confirmed = (await OrderShardDatabases.RowsAsync(Graph.App,
            """SELECT "Id" FROM ordering.orders WHERE "Id" = ANY(@ids) AND "Status" = 'Confirmed'""", reader => reader.GetGuid(0), ("ids", ids))).ToHashSet();
        var ledger = new Dictionary<Guid, bool>();
        await using (var catalog = await OpenPrimaryAsync())
        await using (var decisions = new NpgsqlCommand("""SELECT "OrderId", "Reserved" FROM stock_reservations WHERE "OrderId" = ANY(@ids)""", catalog))
        {
            decisions.Parameters.AddWithValue("ids", ids);
            await using var reader = await decisions.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                ledger.Add(reader.GetGuid(0), reader.GetBoolean(1));
            }
        }

        Assert.Equal(orderCount, ledger.Count);
        Assert.Equal(confirmed.Order(), ledger.Where(decision => decision.Value).Select(decision => decision.Key).Order());
        Assert.InRange(await OrderShardDatabases.SumAsync(Graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "Status" = 'Rejected'""", ("ids", ids)), 1, orderCount - 1);

        // Stock = initial - confirmed quantities, product by product.
        var reserved = (await OrderShardDatabases.RowsAsync(Graph.App,
                """
                SELECT l."ProductId", sum(l."Quantity")::int FROM ordering.order_lines l JOIN ordering.orders o ON o."Id" = l."OrderId"
                WHERE o."Id" = ANY(@ids) AND o."Status" = 'Confirmed' GROUP BY l."ProductId"
                """, reader => (ProductId: reader.GetInt32(0), Quantity: reader.GetInt32(1)), ("ids", ids)))
            .GroupBy(row => row.ProductId)
            .ToDictionary(group => group.Key, group => group.Sum(row => row.Quantity));
        foreach (var productId in products)
        {
            Assert.Equal(initialStock[productId] - reserved.GetValueOrDefault(productId), await StockAsync(productId));
        }

        // Exactly one mail per order, and every mail settled in the database.
        await Eventually.TrueAsync(async () => await OrderShardDatabases.SumAsync(Graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "MailSentAt" IS NULL""", ("ids", ids)) == 0, TimeSpan.FromMinutes(1),
            "every mail settled");
        var mails = Directory.GetFiles(MailPickup, "order-*.eml").Select(Path.GetFileName).ToHashSet();
        Assert.All(ids, id => Assert.Contains($"order-{id}.eml", mails));
        // Every mail was asked for and written at most once; a send repeated after the kill (the relay claims a mail
        // the killed worker had sent but not yet recorded) finds its file and writes nothing.
        var attempts = MailSendAttempts().Where(attempt => ids.Contains(attempt.OrderId)).ToList();
        Assert.All(ids, id => Assert.Contains(attempts, attempt => attempt.OrderId == id));
        Assert.All(attempts.Where(attempt => attempt.Outcome == PickupDirectoryMailSender.Written).GroupBy(attempt => attempt.OrderId),
            written => Assert.Single(written));
        // No half-written mail of these orders is left behind (other tests' mails may be being written right now).
        Assert.All(ids, id => Assert.False(File.Exists(Path.Combine(MailPickup, $"order-{id}.eml.tmp"))));
    }

    [Fact]
    public async Task AnOrderWhoseMessageTheBrokerLostIsPublishedAgainWhenOrderingApiStartsAndIsDecidedOnce()
    {
        var product = (await TestProducts.CreateAsync(Graph.App, stock: 10)).Id;
        PlacedOrder order;
        await using (await Graph.App.StopAsync("ordering-worker"))
        {
            order = await PlaceAsync($"lost-buyer-{Guid.NewGuid():N}", product, 1);
            await Eventually.TrueAsync(async () => await QueueDepthAsync(OrderTopology.OrderSubmittedQueue) >= 1, ProcessingWait, "the order queued");

            // The broker loses what it had confirmed, as one restarted without its data does; the outbox says sent.
            await using var connection = await ConnectBrokerAsync();
            await using var channel = await connection.CreateChannelAsync();
            await channel.QueuePurgeAsync(OrderTopology.OrderSubmittedQueue);
        }

        // Lost indeed: the workers are back, and nothing decides the order.
        await Task.Delay(FaultGraphFixture.OutboxRecoveryAfter * 2);
        Assert.Equal("Submitted", (await CurrentStatusAsync(order)).Status);

        // A start of Ordering.Api (a deployment's restart) publishes it again, once the workers had their time.
        await (await Graph.App.StopAsync("ordering-api")).DisposeAsync();
        Assert.Equal("Confirmed", (await WaitForFinalStatusAsync(order)).Status);
        Assert.Equal(9, await StockAsync(product));
        Assert.Single(await MailsOfAsync(order.Id));
        await using var catalog = await OpenPrimaryAsync();
        await using var decisions = new NpgsqlCommand("""SELECT count(*) FROM stock_reservations WHERE "OrderId" = @id""", catalog);
        decisions.Parameters.AddWithValue("id", order.Id);
        Assert.Equal(1L, await decisions.ExecuteScalarAsync());
    }

    [Fact]
    public async Task APoisonOrderCannotHoldBackTheOthersOfItsBatchWhichConfirmExactlyOnce()
    {
        var poisonProduct = (await TestProducts.CreateAsync(Graph.App)).Id;
        var poisonStock = await StockAsync(poisonProduct);
        var goodProduct = (await TestProducts.CreateAsync(Graph.App, stock: 50)).Id;
        var fallbacksBefore = Graph.Telemetry.Logs.Count;
        await using (await FailStockChangesOfAsync(poisonProduct))
        {
            // The workers are stopped while the orders queue up, so they arrive together as one batch. One buyer: one
            // bucket, one shard, one relay publishing in order, so the poison order is the first of the batch.
            var buyerId = $"buyer-{Guid.NewGuid():N}";
            PlacedOrder poison;
            var good = new List<PlacedOrder>();
            await using (await Graph.App.StopAsync("ordering-worker"))
            {
                poison = await PlaceAsync(buyerId, poisonProduct, 1);
                for (var i = 0; i < 9; i++)
                {
                    good.Add(await PlaceAsync(buyerId, goodProduct, 1));
                }

                await Eventually.TrueAsync(async () => await QueueDepthAsync(OrderTopology.OrderSubmittedQueue) >= 10, ProcessingWait, "the ten orders queued");
            }

            foreach (var order in good)
            {
                Assert.Equal("Confirmed", (await WaitForFinalStatusAsync(order)).Status);
                Assert.Single(await MailsOfAsync(order.Id));
                Assert.Equal(1, await MailSendsOfAsync(order.Id));
            }

            Assert.Equal(50 - good.Count, await StockAsync(goodProduct));

            // The batch did fail as a whole first: the poison was not alone in it.
            var fallback = await Eventually.UntilAsync(
                () => Graph.Telemetry.Logs.Skip(fallbacksBefore).FirstOrDefault(l => l.Service == "ordering-worker" && l.Body.Contains("one at a time")),
                log => log is not null, ProcessingWait);
            Assert.Matches(@"A batch of ([2-9]|\d\d+) orders failed", fallback!.Body);

            var messageId = (await OutboxMessageOfAsync(poison.Id)).MessageId.ToString();
            Assert.Equal("delivery_limit", await Eventually.UntilAsync<string?>(() => DeadLetterReasonAsync(messageId), value => value is not null, ProcessingWait));
            Assert.Equal("Submitted", (await CurrentStatusAsync(poison)).Status);
            Assert.Equal(poisonStock, await StockAsync(poisonProduct));
        }
    }
}
