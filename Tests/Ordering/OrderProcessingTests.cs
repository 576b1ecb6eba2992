using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using AspireShop.Contracts;
using AspireShop.Ordering.Messaging;
using Catalog.Api.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Ordering.Api.Orders;
using RabbitMQ.Client;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>Orders processed by Ordering.Worker through the running graph: stock, status, mail, redelivery, poison, a killed worker.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class OrderProcessingTests(ShopGraphFixture graph)
{
    private static readonly AddressRequest Address = new("1 Harbour Street", "Portsmouth", "PO1 2AB", "United Kingdom");
    private static readonly TimeSpan ProcessingWait = TimeSpan.FromSeconds(30);

    private string MailPickup => Path.Combine(graph.DataRoot, "mail-pickup");

    [Fact]
    public async Task SubmittedOrderIsConfirmedStockIsReservedAndOneMailIsWritten()
    {
        var productId = (await TestProducts.CreateAsync(graph.App, stock: 100)).Id;
        var before = await StockAsync(productId);
        var order = await PlaceAsync($"buyer-{Guid.NewGuid():N}", productId, 2);

        var done = await WaitForFinalStatusAsync(order);
        Assert.Equal("Confirmed", done.Status);
        Assert.Equal(before - 2, await StockAsync(productId));
        var mail = Assert.Single(await MailsOfAsync(order.Id));
        Assert.Contains("is confirmed", await File.ReadAllTextAsync(mail));
    }

    [Fact]
    public async Task DecidingAndMailingAnOrderUpdateItsRowInPlaceWithoutNewIndexEntries()
    {
        // PostgreSQL's own count of updates and of HOT ones (heap-only: no index touched) on the order tables. Stats
        // reach the view within a second or so of each commit, so the counts are read until they settle.
        const string Updates = """SELECT n_tup_upd FROM pg_stat_user_tables WHERE schemaname = 'ordering' AND relname = 'orders'""";
        const string HotUpdates = """SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE schemaname = 'ordering' AND relname = 'orders'""";
        var (updatesBefore, hotBefore) = (await OrderShardDatabases.SumAsync(graph.App, Updates), await OrderShardDatabases.SumAsync(graph.App, HotUpdates));

        var productId = (await TestProducts.CreateAsync(graph.App, stock: 1000)).Id;
        var orders = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => PlaceAsync($"buyer-{Guid.NewGuid():N}", productId, 1)));
        await Eventually.TrueAsync(async () => await OrderShardDatabases.SumAsync(graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "MailSentAt" IS NULL""", ("ids", orders.Select(o => o.Id).ToArray())) == 0,
            ProcessingWait, "every order decided and mailed");

        // Each order's row is updated twice (decided, mail sent).
        var updates = await Eventually.UntilAsync(async () => await OrderShardDatabases.SumAsync(graph.App, Updates) - updatesBefore,
            count => count >= 2 * orders.Length, ProcessingWait);
        var hot = await OrderShardDatabases.SumAsync(graph.App, HotUpdates) - hotBefore;
        Assert.True(hot >= 0.9 * updates, $"{hot} of {updates} updates of ordering.orders were HOT");
    }

    [Fact]
    public async Task TwoOrdersForTheLastUnitConfirmOneAndRejectTheOther()
    {
        var productId = (await TestProducts.CreateAsync(graph.App, stock: 1)).Id;

        var orders = await Task.WhenAll(
            PlaceAsync($"buyer-{Guid.NewGuid():N}", productId, 1),
            PlaceAsync($"buyer-{Guid.NewGuid():N}", productId, 1));
        var results = await Task.WhenAll(orders.Select(order => WaitForFinalStatusAsync(order)));

        Assert.Equal(["Confirmed", "Rejected"], results.Select(r => r.Status).Order());
        Assert.Contains("out of stock", results.Single(r => r.Status == "Rejected").RejectionReason);
        Assert.Equal(0, await StockAsync(productId));
    }

    [Fact]
    public async Task CachedListsChangeOnlyWhenAnOrderLeavesAProductInTheLowStockBand()
    {
        var product = await TestProducts.CreateAsync(graph.App, stock: CatalogAvailability.LowStock + 3);
        using var api = graph.App.CreateHttpClient("catalog-api");
        async Task<int> ListedStockAsync()
            => (await api.GetFromJsonAsync<ProductPage>($"/api/v1/products?search={Uri.EscapeDataString(product.Name)}"))!.Items.Single().AvailableStock;
        Assert.Equal(CatalogAvailability.LowStock + 3, await ListedStockAsync());

        // One unit: still "in stock" on a list, so the cached list page stays as it was; the product itself is exact.
        Assert.Equal("Confirmed", (await WaitForFinalStatusAsync(await PlaceAsync($"buyer-{Guid.NewGuid():N}", product.Id, 1))).Status);
        await Eventually.TrueAsync(async () => (await api.GetFromJsonAsync<ProductDto>($"/api/v1/products/{product.Id}"))!.AvailableStock
            == CatalogAvailability.LowStock + 2, TimeSpan.FromSeconds(5), "the product's own page shows its new stock");
        Assert.Equal(CatalogAvailability.LowStock + 3, await ListedStockAsync());

        // Two more: "only 5 left" is what lists show now, at once.
        Assert.Equal("Confirmed", (await WaitForFinalStatusAsync(await PlaceAsync($"buyer-{Guid.NewGuid():N}", product.Id, 2))).Status);
        Assert.Equal(CatalogAvailability.LowStock, await Eventually.UntilAsync(ListedStockAsync, listed => listed == CatalogAvailability.LowStock,
            TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task RedeliveredMessageChangesNothing()
    {
        var productId = (await TestProducts.CreateAsync(graph.App)).Id;
        var order = await PlaceAsync($"buyer-{Guid.NewGuid():N}", productId, 1);
        Assert.Equal("Confirmed", (await WaitForFinalStatusAsync(order)).Status);
        var stock = await StockAsync(productId);

        // The broker delivers the same message again (as after a consumer crash before its ack).
        var (messageId, payload) = await OutboxMessageOfAsync(order.Id);
        await PublishAsync(messageId.ToString(), payload);
        var probe = await PlaceAsync($"buyer-{Guid.NewGuid():N}", (await TestProducts.CreateAsync(graph.App)).Id, 1);
        await WaitForFinalStatusAsync(probe);

        Assert.Equal(stock, await StockAsync(productId));
        Assert.Single(await MailsOfAsync(order.Id));
    }

    [Fact]
    public async Task MalformedMessageIsDeadLetteredAndTheNextOrderIsStillProcessed()
    {
        var deadLettersBefore = await QueueDepthAsync(OrderTopology.DeadLetterQueue);
        await PublishAsync(Guid.NewGuid().ToString(), "{ this is not an order");

        var order = await PlaceAsync($"buyer-{Guid.NewGuid():N}", (await TestProducts.CreateAsync(graph.App)).Id, 1);
        Assert.Equal("Confirmed", (await WaitForFinalStatusAsync(order)).Status);

        // The other worker may be the one rejecting it, a moment later.
        await Eventually.TrueAsync(async () => await QueueDepthAsync(OrderTopology.DeadLetterQueue) > deadLettersBefore, ProcessingWait,
            "the malformed message was not dead-lettered");
    }

    [Fact]
    public async Task TwoWorkersCompeteForTheOrderQueue()
    {
        var consumers = await Eventually.UntilAsync(async () =>
        {
            await using var connection = await ConnectBrokerAsync();
            await using var channel = await connection.CreateChannelAsync();
            return (await channel.QueueDeclarePassiveAsync(OrderTopology.OrderSubmittedQueue)).ConsumerCount;
        }, count => count == 2, ProcessingWait, TimeSpan.FromMilliseconds(250));
        Assert.Equal(2u, consumers);
    }

    [Fact]
    public async Task AThousandOrdersThroughAWorkerKilledMidRunAreEachDecidedAndMailedOnce()
    {
        // Plenty of stock for half the products and little for the other half, so orders are both confirmed and rejected.
        int[] products = [.. await TestProducts.CreateManyAsync(graph.App, 5, stock: 5_000), .. await TestProducts.CreateManyAsync(graph.App, 5, stock: 60)];

        var initialStock = new Dictionary<int, int>();
        foreach (var productId in products)
        {
            initialStock[productId] = await StockAsync(productId);
        }

        var buyers = new List<(string Id, HttpClient Client)>();
        for (var i = 0; i < 40; i++)
        {
            var id = $"crash-buyer-{Guid.NewGuid():N}";
            buyers.Add((id, await BuyerTokens.ClientForAsync(graph.App, id)));
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
        Assert.Equal(orderCount, await OrderShardDatabases.SumAsync(graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "Status" IN ('Confirmed', 'Rejected')""", ("ids", ids)));
        var confirmed = (await OrderShardDatabases.RowsAsync(graph.App,
            """SELECT "Id" FROM ordering.orders WHERE "Id" = ANY(@ids) AND "Status" = 'Confirmed'""", reader => reader.GetGuid(0), ("ids", ids))).ToHashSet();
        var ledger = new Dictionary<Guid, bool>();
        await using (var catalog = await OpenPrimaryAsync())
        await using (var decisions = new NpgsqlCommand("""SELECT "OrderId", "Reserved" FROM sharding.stock_reservations WHERE "OrderId" = ANY(@ids)""", catalog))
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
        Assert.InRange(await OrderShardDatabases.SumAsync(graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "Status" = 'Rejected'""", ("ids", ids)), 1, orderCount - 1);

        // Stock = initial - confirmed quantities, product by product.
        var reserved = (await OrderShardDatabases.RowsAsync(graph.App,
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
        await Eventually.TrueAsync(async () => await OrderShardDatabases.SumAsync(graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "MailSentAt" IS NULL""", ("ids", ids)) == 0, TimeSpan.FromMinutes(1),
            "every mail settled");
        var mails = Directory.GetFiles(MailPickup, "order-*.eml").Select(Path.GetFileName).ToHashSet();
        Assert.All(ids, id => Assert.Contains($"order-{id}.eml", mails));
        // No half-written mail of these orders is left behind (other tests' mails may be being written right now).
        Assert.All(ids, id => Assert.False(File.Exists(Path.Combine(MailPickup, $"order-{id}.eml.tmp"))));
    }

    [Fact]
    public async Task MessageThatKeepsFailingIsDeadLetteredAtTheDeliveryLimitAndOrdersKeepFlowing()
    {
        var poisonProduct = (await TestProducts.CreateAsync(graph.App)).Id;
        var stock = await StockAsync(poisonProduct);
        await using (await FailStockChangesOfAsync(poisonProduct))
        {
            var poison = await PlaceAsync($"buyer-{Guid.NewGuid():N}", poisonProduct, 1);
            var messageId = (await OutboxMessageOfAsync(poison.Id)).MessageId.ToString();

            var reason = await Eventually.UntilAsync<string?>(() => DeadLetterReasonAsync(messageId), value => value is not null, ProcessingWait);
            Assert.Equal("delivery_limit", reason);
            Assert.Equal("Submitted", (await WaitForFinalStatusAsync(poison, TimeSpan.Zero)).Status);
            Assert.Equal(stock, await StockAsync(poisonProduct));

            var order = await PlaceAsync($"buyer-{Guid.NewGuid():N}", (await TestProducts.CreateAsync(graph.App)).Id, 1);
            Assert.Equal("Confirmed", (await WaitForFinalStatusAsync(order)).Status);
        }
    }

    [Fact]
    public async Task APoisonOrderCannotHoldBackTheOthersOfItsBatchWhichConfirmExactlyOnce()
    {
        var poisonProduct = (await TestProducts.CreateAsync(graph.App)).Id;
        var poisonStock = await StockAsync(poisonProduct);
        var goodProduct = (await TestProducts.CreateAsync(graph.App, stock: 50)).Id;
        var fallbacksBefore = graph.Telemetry.Logs.Count;
        await using (await FailStockChangesOfAsync(poisonProduct))
        {
            // The workers are stopped while the orders queue up, so they arrive together as one batch. One buyer: one
            // bucket, one shard, one relay publishing in order, so the poison order is the first of the batch.
            var buyerId = $"buyer-{Guid.NewGuid():N}";
            PlacedOrder poison;
            var good = new List<PlacedOrder>();
            await using (await graph.App.StopAsync("ordering-worker"))
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
            }

            Assert.Equal(50 - good.Count, await StockAsync(goodProduct));

            // The batch did fail as a whole first: the poison was not alone in it.
            var fallback = await Eventually.UntilAsync(
                () => graph.Telemetry.Logs.Skip(fallbacksBefore).FirstOrDefault(l => l.Service == "ordering-worker" && l.Body.Contains("one at a time")),
                log => log is not null, ProcessingWait);
            Assert.Matches(@"A batch of ([2-9]|\d\d+) orders failed", fallback!.Body);

            var messageId = (await OutboxMessageOfAsync(poison.Id)).MessageId.ToString();
            Assert.Equal("delivery_limit", await Eventually.UntilAsync<string?>(() => DeadLetterReasonAsync(messageId), value => value is not null, ProcessingWait));
            Assert.Equal("Submitted", (await WaitForFinalStatusAsync(poison, TimeSpan.Zero)).Status);
            Assert.Equal(poisonStock, await StockAsync(poisonProduct));
        }
    }

    /// <summary>
    /// A real, non-transient database failure for one product's orders: a trigger in the catalog refuses every stock
    /// change of the product, so each delivery of such an order's OrderSubmitted fails at the reservation. Disposing
    /// removes the trigger.
    /// </summary>
    private async Task<IAsyncDisposable> FailStockChangesOfAsync(int productId)
    {
        var trigger = $"fail_{Guid.NewGuid():N}";
        await ExecuteOnCatalogAsync($"""
            CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW."Id" = {productId} THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER {trigger} BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION {trigger}();
            """);
        return new Cleanup(() => ExecuteOnCatalogAsync($"DROP TRIGGER {trigger} ON products; DROP FUNCTION {trigger}();"));
    }

    private sealed class Cleanup(Func<Task> undo) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await undo();
    }

    private sealed record PlacedOrder(Guid Id, string BuyerId);

    private async Task<PlacedOrder> PlaceAsync(string buyerId, int productId, int quantity)
    {
        using var buyer = await BuyerTokens.ClientForAsync(graph.App, buyerId);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
        {
            Content = JsonContent.Create(new SubmitOrderRequest([new(productId, quantity)], "Grace Hopper", "grace@example.com", Address)),
        };
        request.Headers.Add(OrdersApi.IdempotencyKeyHeader, Guid.NewGuid().ToString());
        using var response = await buyer.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return new PlacedOrder((await response.Content.ReadFromJsonAsync<OrderDto>())!.Id, buyerId);
    }

    private async Task<OrderDto> WaitForFinalStatusAsync(PlacedOrder order, TimeSpan? wait = null)
    {
        using var buyer = await BuyerTokens.ClientForAsync(graph.App, order.BuyerId);
        return await Eventually.UntilAsync(async () => (await buyer.GetFromJsonAsync<OrderDto>($"/api/v1/orders/{order.Id}"))!,
            now => now.Status != "Submitted", wait ?? ProcessingWait);
    }

    // The mail is written just after the commit that makes the order Confirmed, so it can trail the status a little.
    private Task<string[]> MailsOfAsync(Guid orderId)
        => Eventually.UntilAsync(() => Directory.Exists(MailPickup) ? Directory.GetFiles(MailPickup, $"order-{orderId}.eml") : [],
            mails => mails.Length > 0, ProcessingWait);

    private async Task<int> StockAsync(int productId)
    {
        await using var connection = await OpenPrimaryAsync();
        await using var command = new NpgsqlCommand("""SELECT "AvailableStock" FROM products WHERE "Id" = @id""", connection);
        command.Parameters.AddWithValue("id", productId);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private Task SetStockAsync(int productId, int stock) => CatalogStock.SetAsync(graph.App, productId, stock);

    private async Task<(Guid MessageId, string Payload)> OutboxMessageOfAsync(Guid orderId)
        => Assert.Single(await OrderShardDatabases.RowsAsync(graph.App,
            """SELECT "MessageId", "Payload"::text FROM ordering.outbox WHERE "Type" = @type AND "Payload"->>'orderId' = @id""",
            reader => (reader.GetGuid(0), reader.GetString(1)),
            ("type", OrderMessaging.OrderSubmittedType), ("id", orderId.ToString())));

    private async Task PublishAsync(string messageId, string body)
    {
        await using var connection = await ConnectBrokerAsync();
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.BasicPublishAsync(OrderMessaging.Exchange, OrderMessaging.OrderSubmittedType, mandatory: false,
            new BasicProperties { Persistent = true, MessageId = messageId, Type = OrderMessaging.OrderSubmittedType },
            Encoding.UTF8.GetBytes(body));
    }

    private async Task<string[]> WorkerReplicaNamesAsync()
        => [.. (await graph.App.RunningReplicasAsync("ordering-worker")).Select(replica => replica.Id)];

    private async Task KillAndRestartAsync(string replica)
    {
        var notifications = graph.App.Services.GetRequiredService<ResourceNotificationService>();
        Assert.True(notifications.TryGetCurrentState(replica, out var running));
        // The resource's process is the worker itself (the AppHost starts its built assembly, not `dotnet run`).
        var worker = Convert.ToInt32(running.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("Ordering.Worker.dll", await File.ReadAllTextAsync($"/proc/{worker}/cmdline"));
        Process.GetProcessById(worker).Kill(); // SIGKILL
        await Eventually.TrueAsync(() => notifications.TryGetCurrentState(replica, out var now)
            && now.Snapshot.State?.Text is "Exited" or "Finished" or "FailedToStart", ProcessingWait, "the killed worker is not reported stopped");

        var commands = graph.App.Services.GetRequiredService<ResourceCommandService>();
        Assert.True((await commands.ExecuteCommandAsync(replica, KnownResourceCommands.StartCommand)).Success);
        var replicas = await Eventually.UntilAsync(WorkerReplicaNamesAsync, running => running.Length >= 2, TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(250));
        Assert.True(replicas.Length >= 2, $"the worker was not restarted; running: {string.Join(", ", replicas)}");
    }

    private Task WaitUntilDecidedAsync(IReadOnlyCollection<Guid> orders, TimeSpan timeout)
        => Eventually.TrueAsync(async () => await OrderShardDatabases.SumAsync(graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "Status" = 'Submitted'""", ("ids", orders.ToArray())) == 0, timeout,
            "every order decided");

    /// <summary>Reads the dead-letter queue without taking anything from it: unacknowledged gets go back when the channel closes.</summary>
    private async Task<string?> DeadLetterReasonAsync(string messageId)
    {
        await using var connection = await ConnectBrokerAsync();
        await using var channel = await connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(OrderTopology.DeadLetterQueue, autoAck: false) is { } message)
        {
            if (message.BasicProperties.MessageId == messageId)
            {
                return message.BasicProperties.Headers?.TryGetValue("x-first-death-reason", out var reason) == true && reason is byte[] text
                    ? Encoding.UTF8.GetString(text)
                    : "(no reason)";
            }
        }

        return null;
    }

    private async Task<uint> QueueDepthAsync(string queue)
    {
        await using var connection = await ConnectBrokerAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    private async Task<IConnection> ConnectBrokerAsync()
        => await new ConnectionFactory { Uri = new Uri((await graph.App.GetConnectionStringAsync("messaging"))!) }.CreateConnectionAsync();

    private async Task ExecuteOnCatalogAsync(string sql)
    {
        await using var connection = await OpenPrimaryAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<NpgsqlConnection> OpenPrimaryAsync()
    {
        var connection = new NpgsqlConnection(await graph.App.GetConnectionStringAsync("catalogdb"));
        await connection.OpenAsync();
        return connection;
    }
}
