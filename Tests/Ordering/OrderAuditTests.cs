using System.Net.Http.Json;
using AspireShop.Contracts;
using Ordering.Api.Orders;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>
/// Ordering.Api's operator audit, which Check orders runs, asked about requests whose fate the test knows: it reports
/// each kind of fault it names, and is sound only when there is none.
/// </summary>
[Collection(ShopGraphCollection.Name)]
public sealed class OrderAuditTests(ShopGraphFixture graph)
{
    private static readonly AddressRequest Address = new("7 Audit Row", "Bath", "BA1 1AA", "United Kingdom");

    [Fact]
    public async Task TheAuditFindsLostUnsentUnansweredAndUndecidedOrdersByBuyerAndKey()
    {
        var buyer = $"audit-{Guid.NewGuid():N}";
        var product = await TestProducts.CreateAsync(graph.App, stock: 100);
        using var ops = await OperationsClientAsync();
        var start = (await (await ops.PostAsJsonAsync("/ops/stock", new[] { product.Id })).Content.ReadFromJsonAsync<StockSnapshot>())!;

        using var client = await BuyerTokens.ClientForAsync(graph.App, buyer);
        var (answered, answeredKey) = await PlaceAsync(client, product.Id, 2);
        SentOrder Answered() => new(buyer, answeredKey, answered);

        // The one order, answered and recorded, is sound once it is decided and mailed: stock fell by its two units.
        var alone = await Eventually.UntilAsync(() => AuditAsync(ops, start, product.Id, Answered()), report => report.Drained, TimeSpan.FromSeconds(60));
        Assert.True(alone.Sound, alone.Summary);
        Assert.Equal((1, 1, 1, 0, 0, 0), (alone.Sent, alone.Accepted, alone.Stored, alone.Lost, alone.Doubled, alone.NotSent));
        Assert.Equal((2, 2), (alone.StockTaken, alone.StockConfirmed));

        // Two more orders of the same buyer: one the record has without its answer, one it does not have at all.
        var (_, unansweredKey) = await PlaceAsync(client, product.Id, 1);
        await PlaceAsync(client, product.Id, 1);
        var report = await AuditAsync(ops, start, product.Id,
            Answered(),
            // Sent without an answer, and stored: not a fault; the client's resend with the key would find it.
            new SentOrder(buyer, unansweredKey, AcceptedId: null),
            // Answered 202 and stored nowhere: lost.
            new SentOrder(buyer, Guid.NewGuid().ToString(), Guid.NewGuid()),
            // Sent without an answer and never stored: not a fault.
            new SentOrder(buyer, Guid.NewGuid().ToString(), AcceptedId: null),
            // Answered with an id other than the one stored for its key: the key made a second order.
            new SentOrder(buyer, unansweredKey, Guid.NewGuid()));
        Assert.False(report.Sound, report.Summary);
        Assert.Equal(4, report.Sent);
        Assert.Equal(1, report.Lost);
        Assert.Equal(1, report.NeverStored);
        Assert.Equal(1, report.NotSent);
        Assert.Equal(1, report.Doubled);
        Assert.Equal(0, report.StoredWithoutAnswer);
        Assert.Contains("1 lost, 1 doubled, 1 never sent", report.Summary);

        // Without the made-up answers, the order sent without an answer is stored without an answer, not a fault; the
        // order the record lacks still is, and so is the stock its units took.
        var unexplained = await AuditAsync(ops, start, product.Id, Answered(), new SentOrder(buyer, unansweredKey, AcceptedId: null));
        Assert.Equal((1, 0, 0, 1), (unexplained.StoredWithoutAnswer, unexplained.Lost, unexplained.Doubled, unexplained.NotSent));
        Assert.False(unexplained.Sound, unexplained.Summary);
    }

    [Fact]
    public async Task ALongRunsRecordIsAuditedThoughItIsFarPastTheDefaultBodyLimit()
    {
        using var ops = await OperationsClientAsync();
        var product = await TestProducts.CreateAsync(graph.App);
        var start = (await (await ops.PostAsJsonAsync("/ops/stock", new[] { product.Id })).Content.ReadFromJsonAsync<StockSnapshot>())!;
        var buyer = $"audit-{Guid.NewGuid():N}";
        var sent = Enumerable.Range(0, 20_000).Select(_ => new SentOrder(buyer, Guid.NewGuid().ToString(), AcceptedId: null)).ToArray();

        var report = await AuditAsync(ops, start, product.Id, sent);

        Assert.Equal((20_000, 20_000, 0), (report.Sent, report.NeverStored, report.Lost));
    }

    private async Task<HttpClient> OperationsClientAsync()
    {
        var client = graph.App.CreateHttpClient(ResourceNames.OrderingApi);
        client.DefaultRequestHeaders.Add(OperationsAccess.KeyHeader, await SignedTestTokens.ParameterValueAsync(graph.App, OperationsAccess.KeyParameter));
        return client;
    }

    private static async Task<OrderAuditReport> AuditAsync(HttpClient ops, StockSnapshot start, int product, params SentOrder[] sent)
    {
        using var answer = await ops.PostAsJsonAsync("/ops/audit",
            new OrderAuditRequest(sent, start.At, new Dictionary<int, int> { [product] = start.Stock[product] }));
        answer.EnsureSuccessStatusCode();
        return (await answer.Content.ReadFromJsonAsync<OrderAuditReport>())!;
    }

    private static async Task<(Guid Id, string Key)> PlaceAsync(HttpClient buyer, int productId, int quantity)
    {
        var key = Guid.NewGuid().ToString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
        {
            Content = JsonContent.Create(new SubmitOrderRequest([new(productId, quantity)], "Audit Buyer", "audit@example.com", Address)),
        };
        request.Headers.Add(OrdersApi.IdempotencyKeyHeader, key);
        using var response = await buyer.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return ((await response.Content.ReadFromJsonAsync<OrderDto>())!.Id, key);
    }
}
