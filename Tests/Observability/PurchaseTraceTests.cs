using Tests.Catalog;
using Tests.Web;
using Tests.WholeGraph;

namespace Tests.Observability;

/// <summary>
/// One purchase is one trace: the checkout request in Web.Blazor, the order API call in Ordering.Api, the outbox
/// relay's publish, and Ordering.Worker's consume, all in the same trace, asserted on the spans the services exported;
/// and no log carries the buyer's personal details.
/// </summary>
[Collection(ShopGraphCollection.Name)]
public sealed class PurchaseTraceTests(ShopGraphFixture graph)
{
    [Fact]
    public async Task TheWorkersConsumeSpanIsInTheSameTraceAsTheCheckoutRequest()
    {
        using var shopper = new ShopFrontClient(graph.App.GetEndpoint("web-blazor"));
        await shopper.AddToCartAsync((await TestProducts.CreateAsync(graph.App)).Id, 1);
        var form = await shopper.FilledCheckoutFormAsync();

        // The shopper's browser starts the trace (as a traced front end would); the site continues it.
        var purchase = TestTrace.New();
        var traceId = purchase.TraceId;
        var orderPage = await shopper.SubmitCheckoutAsync(form, purchase.TraceParent);
        Assert.Matches("/orders/[0-9a-f-]{36}$", orderPage);

        // Each service exports on its own schedule: wait for every hop of the purchase.
        var trace = await graph.Telemetry.WaitForTraceAsync(traceId, spans => spans.Any(IsCheckout) && spans.Any(IsOrderApi) && spans.Any(IsPublish)
            && spans.Any(IsConsume) && spans.Any(IsWorkerQuery), TimeSpan.FromSeconds(30));
        var hops = string.Join("\n", trace.Select(s => $"{s.Service}: {s.Name}"));

        var consume = Assert.Single(trace, IsConsume);
        Assert.Equal("rabbitmq", consume.Attributes["messaging.system"]);
        Assert.Equal("process", consume.Attributes["messaging.operation.type"]);

        // Not only the same trace: the consume span descends from the publish, the order API call and the checkout.
        var ancestors = new List<CollectedSpan>();
        for (var span = consume; trace.FirstOrDefault(s => s.SpanId == span.ParentSpanId) is { } parent; span = parent)
        {
            ancestors.Add(parent);
        }

        var chain = string.Join(" <- ", ancestors.Select(s => $"{s.Service}: {s.Name}"));
        Assert.True(ancestors.Any(IsPublish), chain);
        Assert.True(ancestors.Any(IsOrderApi), chain);
        Assert.True(ancestors.Any(IsCheckout), chain);
        Assert.True(trace.Any(IsWorkerQuery), hops);

        // The consume span names the order it decided.
        Assert.Equal(orderPage![^36..], consume.Attributes.GetValueOrDefault("shop.order.id"));

        // Every log the graph has exported so far (every test's orders use these details): none carries them.
        Assert.DoesNotContain(graph.Telemetry.Logs, log => PersonalDetails.Any(detail =>
            log.Body.Contains(detail, StringComparison.OrdinalIgnoreCase) || log.Attributes.Values.Any(v => v.Contains(detail, StringComparison.OrdinalIgnoreCase))));
    }

    private static readonly string[] PersonalDetails = ["grace@example.com", "Grace Hopper", "1 Harbour Street", "PO1 2AB"];

    private static bool IsCheckout(CollectedSpan span)
        => span.Service == "web-blazor" && span.Name == "POST /checkout";

    private static bool IsOrderApi(CollectedSpan span)
        => span.Service == "ordering-api" && span.Name.StartsWith("POST /api/v1/orders", StringComparison.Ordinal);

    private static bool IsPublish(CollectedSpan span)
        => span.Service == "ordering-api" && span.Name == "shop.orders publish"
            && span.Attributes.GetValueOrDefault("messaging.rabbitmq.destination.routing_key") == "order.submitted";

    private static bool IsWorkerQuery(CollectedSpan span)
        => span.Service == "ordering-worker" && (span.Attributes.ContainsKey("db.system.name") || span.Attributes.ContainsKey("db.system"));

    private static bool IsConsume(CollectedSpan span) => span.Service == "ordering-worker" && span.Name == "ordering.order-submitted process";
}
