using System.Net;
using System.Net.Http.Json;
using System.Text;
using AspireShop.Contracts;
using Catalog.Api.Catalog;
using Catalog.Api.Ordering;
using Npgsql;
using RabbitMQ.Client;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>Orders processed by Ordering.Worker through the running graph: stock, status, mail, redelivery, poison.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class OrderProcessingTests(ShopGraphFixture graph)
{
    private static readonly AddressRequest Address = new("1 Harbour Street", "Portsmouth", "PO1 2AB", "United Kingdom");
    private static readonly TimeSpan ProcessingWait = TimeSpan.FromSeconds(30);

    private string MailPickup => Path.Combine(graph.DataRoot, "mail-pickup");

    [Fact]
    public async Task SubmittedOrderIsConfirmedStockIsReservedAndOneMailIsWritten()
    {
        const int productId = 8;
        var before = await StockAsync(productId);
        var order = await PlaceAsync($"buyer-{Guid.NewGuid():N}", productId, 2);

        var done = await WaitForFinalStatusAsync(order);
        Assert.Equal("Confirmed", done.Status);
        Assert.Equal(before - 2, await StockAsync(productId));
        var mail = Assert.Single(await MailsOfAsync(order.Id));
        Assert.Contains("is confirmed", await File.ReadAllTextAsync(mail));
    }

    [Fact]
    public async Task TwoOrdersForTheLastUnitConfirmOneAndRejectTheOther()
    {
        const int productId = 9;
        await SetStockAsync(productId, 1);

        var orders = await Task.WhenAll(
            PlaceAsync($"buyer-{Guid.NewGuid():N}", productId, 1),
            PlaceAsync($"buyer-{Guid.NewGuid():N}", productId, 1));
        var results = await Task.WhenAll(orders.Select(WaitForFinalStatusAsync));

        Assert.Equal(["Confirmed", "Rejected"], results.Select(r => r.Status).Order());
        Assert.Contains("out of stock", results.Single(r => r.Status == "Rejected").RejectionReason);
        Assert.Equal(0, await StockAsync(productId));
    }

    [Fact]
    public async Task RedeliveredMessageChangesNothing()
    {
        const int productId = 10;
        var order = await PlaceAsync($"buyer-{Guid.NewGuid():N}", productId, 1);
        Assert.Equal("Confirmed", (await WaitForFinalStatusAsync(order)).Status);
        var stock = await StockAsync(productId);

        // The broker delivers the same message again (as after a consumer crash before its ack).
        var (messageId, payload) = await OutboxMessageOfAsync(order.Id);
        await PublishAsync(messageId.ToString(), payload);
        var probe = await PlaceAsync($"buyer-{Guid.NewGuid():N}", 11, 1);
        await WaitForFinalStatusAsync(probe);

        Assert.Equal(stock, await StockAsync(productId));
        Assert.Single(await MailsOfAsync(order.Id));
    }

    [Fact]
    public async Task MalformedMessageIsDeadLetteredAndTheNextOrderIsStillProcessed()
    {
        var deadLettersBefore = await QueueDepthAsync(OrderTopology.DeadLetterQueue);
        await PublishAsync(Guid.NewGuid().ToString(), "{ this is not an order");

        var order = await PlaceAsync($"buyer-{Guid.NewGuid():N}", 12, 1);
        Assert.Equal("Confirmed", (await WaitForFinalStatusAsync(order)).Status);

        // The other worker may be the one rejecting it, a moment later.
        var deadline = DateTime.UtcNow + ProcessingWait;
        while (await QueueDepthAsync(OrderTopology.DeadLetterQueue) <= deadLettersBefore && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(await QueueDepthAsync(OrderTopology.DeadLetterQueue) > deadLettersBefore, "the malformed message was not dead-lettered");
    }

    [Fact]
    public async Task TwoWorkersCompeteForTheOrderQueue()
    {
        var deadline = DateTime.UtcNow + ProcessingWait;
        uint consumers;
        do
        {
            await using var connection = await ConnectBrokerAsync();
            await using var channel = await connection.CreateChannelAsync();
            consumers = (await channel.QueueDeclarePassiveAsync(OrderTopology.OrderSubmittedQueue)).ConsumerCount;
            if (consumers != 2)
            {
                await Task.Delay(250);
            }
        }
        while (consumers != 2 && DateTime.UtcNow < deadline);

        Assert.Equal(2u, consumers);
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

    private async Task<OrderDto> WaitForFinalStatusAsync(PlacedOrder order)
    {
        using var buyer = await BuyerTokens.ClientForAsync(graph.App, order.BuyerId);
        var deadline = DateTime.UtcNow + ProcessingWait;
        while (true)
        {
            var now = (await buyer.GetFromJsonAsync<OrderDto>($"/api/v1/orders/{order.Id}"))!;
            if (now.Status != "Submitted" || DateTime.UtcNow > deadline)
            {
                return now;
            }

            await Task.Delay(100);
        }
    }

    // The mail is written just after the commit that makes the order Confirmed, so it can trail the status a little.
    private async Task<string[]> MailsOfAsync(Guid orderId)
    {
        var deadline = DateTime.UtcNow + ProcessingWait;
        string[] mails;
        while ((mails = Directory.Exists(MailPickup) ? Directory.GetFiles(MailPickup, $"order-{orderId}*") : []).Length == 0
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        return mails;
    }

    private async Task<int> StockAsync(int productId)
    {
        await using var connection = await OpenPrimaryAsync();
        await using var command = new NpgsqlCommand("""SELECT "AvailableStock" FROM products WHERE "Id" = @id""", connection);
        command.Parameters.AddWithValue("id", productId);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private async Task SetStockAsync(int productId, int stock)
    {
        using var admin = graph.App.CreateHttpClient("catalog-api");
        admin.DefaultRequestHeaders.Authorization = new("Bearer", await CatalogAdminTokens.CreateAsync(graph.App, $"stock-{Guid.NewGuid():N}"));
        using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/products/{productId}");
        read.Headers.Add(ReadConsistency.HeaderName, ReadConsistency.TokenFor(DateTimeOffset.UtcNow));
        using var current = await admin.SendAsync(read);
        var product = (await current.Content.ReadFromJsonAsync<ProductDto>())!;
        using var write = await admin.PutAsJsonAsync($"/api/v1/products/{productId}/stock", new StockUpdateRequest(stock, product.Version));
        write.EnsureSuccessStatusCode();
    }

    private async Task<(Guid MessageId, string Payload)> OutboxMessageOfAsync(Guid orderId)
    {
        await using var connection = await OpenPrimaryAsync();
        await using var command = new NpgsqlCommand(
            """SELECT "MessageId", "Payload"::text FROM ordering.outbox WHERE "Type" = @type AND "Payload"->>'orderId' = @id""", connection);
        command.Parameters.AddWithValue("type", OrderMessaging.OrderSubmittedType);
        command.Parameters.AddWithValue("id", orderId.ToString());
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetGuid(0), reader.GetString(1));
    }

    private async Task PublishAsync(string messageId, string body)
    {
        await using var connection = await ConnectBrokerAsync();
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.BasicPublishAsync(OrderMessaging.Exchange, OrderMessaging.OrderSubmittedType, mandatory: false,
            new BasicProperties { Persistent = true, MessageId = messageId, Type = OrderMessaging.OrderSubmittedType },
            Encoding.UTF8.GetBytes(body));
    }

    private async Task<uint> QueueDepthAsync(string queue)
    {
        await using var connection = await ConnectBrokerAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    private async Task<IConnection> ConnectBrokerAsync()
        => await new ConnectionFactory { Uri = new Uri((await graph.App.GetConnectionStringAsync("messaging"))!) }.CreateConnectionAsync();

    private async Task<NpgsqlConnection> OpenPrimaryAsync()
    {
        var connection = new NpgsqlConnection(await graph.App.GetConnectionStringAsync("catalogdb"));
        await connection.OpenAsync();
        return connection;
    }
}
