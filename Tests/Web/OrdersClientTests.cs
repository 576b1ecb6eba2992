using AspireShop.ServiceDefaults.Security;
using Microsoft.Extensions.Configuration;
using Tests.Catalog;
using Tests.WholeGraph;
using Web.Blazor.Ordering;

namespace Tests.Web;

/// <summary>The shop front's order client against the real Ordering.Api, where its answers decide what a shopper sees.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class OrdersClientTests(ShopGraphFixture graph)
{
    [Fact]
    public async Task ACheckoutKeySentAgainWithAnotherCartIsTheOrderItAlreadyPlacedNotARefusal()
    {
        var signing = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Buyers:SigningKey"] = await SignedTestTokens.ParameterValueAsync(graph.App, "buyer-token-signing-key"),
        }).Build();
        using var http = graph.App.CreateHttpClient("ordering-api");
        var orders = new OrdersClient(http, new BuyerTokenIssuer(signing, TimeProvider.System));
        var products = await TestProducts.CreateManyAsync(graph.App, 2);
        var buyer = $"checkout-{Guid.NewGuid():N}";
        var key = Guid.NewGuid().ToString();
        var address = new ShopAddress("1 Harbour Street", "Portsmouth", "PO1 2AB", "United Kingdom");

        var placed = await orders.PlaceAsync(buyer, key, new PlaceOrderRequest([new(products[0], 1)], "Grace Hopper", "grace@example.com", address), default);
        // The same form submitted again after a product was added in another tab: another body, the same key.
        var again = await Assert.ThrowsAsync<CheckoutAlreadyPlacedException>(() => orders.PlaceAsync(buyer, key,
            new PlaceOrderRequest([new(products[0], 1), new(products[1], 1)], "Grace Hopper", "grace@example.com", address), default));

        Assert.Equal(placed.Id, again.OrderId);
    }
}
