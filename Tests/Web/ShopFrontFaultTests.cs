using System.Net;
using Microsoft.Playwright;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Web;

/// <summary>The shoppers' site while a server it depends on is down on purpose: Redis, Catalog.Api.</summary>
[Collection(FaultGraphCollection.Name)]
public sealed class ShopFrontFaultTests(FaultGraphFixture graph) : ShopFrontSteps(graph)
{
    [Fact]
    public async Task BrowsingWorksWhileRedisIsDownTheCartSaysItIsUnavailableAndComesBackIntact()
    {
        var secondProduct = (await TestProducts.CreateAsync(Graph.App, stock: 50)).Id;
        var (page, shots) = await NewShopperAsync(nameof(BrowsingWorksWhileRedisIsDownTheCartSaysItIsUnavailableAndComesBackIntact));
        await page.GotoAsync($"/products/{secondProduct}");
        await AddToCartAsync(page);

        await using (await Graph.App.StopAsync("cache"))
        {
            await page.GotoAsync("/?page=2");
            await Assertions.Expect(page.Locator(".product-card")).ToHaveCountAsync(12);
            await page.GotoAsync("/cart");
            await Assertions.Expect(page.GetByText("The cart is unavailable right now")).ToBeVisibleAsync();
            await shots.TakeAsync("cart-unavailable");
        }

        // Redis keeps its data across the restart: the same buyer (the cookie is still readable) finds the same cart.
        await page.GotoAsync("/cart");
        await Assertions.Expect(page.Locator($".cart-line[data-product-id='{secondProduct}']")).ToHaveCountAsync(1);
        await shots.TakeAsync("cart-back");

        // The browser keeps its connection, so it saw one replica reconnect; the next test needs both.
        using var shopper = new ShopFrontClient(Site);
        await shopper.UntilBothReplicasServeAsync("/cart", "The cart is unavailable right now");
    }

    [Fact]
    public async Task ShoppersSeeANoticeWhileCatalogApiIsDown()
    {
        using var shopper = new ShopFrontClient(Site);

        await using (await Graph.App.StopAsync("catalog-api"))
        {
            using var home = await shopper.Http.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, home.StatusCode);
            Assert.Contains("The catalog is unavailable right now", await home.Content.ReadAsStringAsync());
        }

        // Each replica's circuit breaker lets requests through again once its break is over: wait for both, so the
        // next test finds the site whole.
        await shopper.UntilBothReplicasServeAsync("/", "The catalog is unavailable right now");
    }
}
