using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Web;

/// <summary>
/// The shoppers' site in a real browser (Debian chromium through Playwright) against the running graph. Every step
/// of the purchase is saved as a screenshot under TestResults/screenshots.
/// </summary>
[Collection(ShopGraphCollection.Name)]
public sealed partial class ShopFrontTests(ShopGraphFixture graph) : ShopFrontSteps(graph)
{
    [Fact]
    public async Task ShopperBrowsesFiltersSearchesFillsACartChecksOutAndSeesTheOrderConfirmed()
    {
        var first = await TestProducts.CreateAsync(Graph.App, stock: 50);
        var second = await TestProducts.CreateAsync(Graph.App, stock: 50);
        var (firstProduct, secondProduct) = (first.Id, second.Id);
        var (page, shots) = await NewShopperAsync(nameof(ShopperBrowsesFiltersSearchesFillsACartChecksOutAndSeesTheOrderConfirmed));

        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator(".product-card")).ToHaveCountAsync(12);
        await shots.TakeAsync("catalog");

        await page.ClickAsync("a[rel=next]");
        await page.WaitForURLAsync(new Regex("page=2$"));
        await Assertions.Expect(page.Locator(".pager")).ToContainTextAsync(new Regex(@"Page 2 of \d+"));
        await page.ClickAsync("a[rel=prev]");
        await page.WaitForURLAsync(new Regex("/$"));
        await Assertions.Expect(page.Locator(".pager")).ToContainTextAsync(new Regex(@"Page 1 of \d+"));

        await page.SelectOptionAsync("#filter-brand", new SelectOptionValue { Label = first.Brand });
        await page.ClickAsync("text=Apply filters");
        await page.WaitForURLAsync(new Regex($"brand={first.BrandId}"));
        var metas = await page.Locator(".product-card__meta").AllInnerTextsAsync();
        Assert.NotEmpty(metas);
        Assert.All(metas, meta => Assert.StartsWith(first.Brand, meta));
        await shots.TakeAsync("filtered-by-brand");

        await page.FillAsync("#site-search-q", first.Name);
        await page.PressAsync("#site-search-q", "Enter");
        await page.WaitForURLAsync(new Regex("q="));
        await page.ClickAsync($".product-card__name:text-is('{first.Name}')");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(first.Name);
        await shots.TakeAsync("product");

        await AddToCartAsync(page);
        await page.GotoAsync($"/products/{secondProduct}");
        await page.FillAsync("#quantity", "2");
        await AddToCartAsync(page);
        await Assertions.Expect(page.Locator(".cart-line")).ToHaveCountAsync(2);
        await shots.TakeAsync("cart-with-two-products");

        await page.FillAsync($"#quantity-{firstProduct}", "3");
        await page.Locator($".cart-line[data-product-id='{firstProduct}']").GetByText("Update").ClickAsync();
        await Assertions.Expect(page.Locator($"#quantity-{firstProduct}")).ToHaveValueAsync("3");
        await page.Locator($".cart-line[data-product-id='{secondProduct}']").GetByRole(AriaRole.Button, new() { Name = $"Remove {second.Name}" }).ClickAsync();
        await Assertions.Expect(page.Locator(".cart-line")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator(".cart-total")).ToHaveTextAsync(Money(first.Price * 3));
        await shots.TakeAsync("cart-changed");

        await page.ClickAsync("text=Check out");
        await page.FillAsync("#email", "not-an-email");
        await page.ClickAsync("text=Place order");
        await Assertions.Expect(page.GetByText("Enter your full name.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Enter an email address like name@example.com.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Enter the postal code.")).ToBeVisibleAsync();
        await shots.TakeAsync("checkout-invalid");

        await FillCheckoutAsync(page);
        await page.ClickAsync("text=Place order");
        await page.WaitForURLAsync(new Regex("/orders/[0-9a-f-]{36}$"));
        var orderUrl = page.Url;
        await Assertions.Expect(page.GetByTestId("order-status")).ToHaveTextAsync("Confirmed", new() { Timeout = (float)ProcessingWait.TotalMilliseconds });
        await shots.TakeAsync("order-confirmed");

        await page.ClickAsync("nav >> text=My orders");
        var orderLink = page.Locator($"a[href='/orders/{orderUrl[^36..]}']");
        await Assertions.Expect(orderLink).ToBeVisibleAsync();
        await shots.TakeAsync("my-orders");
        Assert.Equal(0, await CartLineCountAsync(page));
    }

    [Fact]
    public async Task SoldOutProductCannotBeAddedAndARejectedOrderShowsWhy()
    {
        var soldOutProduct = (await TestProducts.CreateAsync(Graph.App, stock: 0)).Id;
        var lastUnitProduct = (await TestProducts.CreateAsync(Graph.App, stock: 1)).Id;
        var (page, shots) = await NewShopperAsync(nameof(SoldOutProductCannotBeAddedAndARejectedOrderShowsWhy));

        await page.GotoAsync($"/products/{soldOutProduct}");
        await Assertions.Expect(page.Locator(".stock")).ToHaveTextAsync("Out of stock");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Out of stock" })).ToBeDisabledAsync();
        Assert.Equal(0, await page.Locator("form.add-to-cart").CountAsync());
        await shots.TakeAsync("sold-out");

        // The last unit is in the cart, then sells elsewhere before this shopper checks out.
        await page.GotoAsync($"/products/{lastUnitProduct}");
        await AddToCartAsync(page);
        await SetStockAsync(lastUnitProduct, 0);
        await page.ClickAsync("text=Check out");
        await FillCheckoutAsync(page);
        await page.ClickAsync("text=Place order");
        await Assertions.Expect(page.GetByTestId("order-status")).ToHaveTextAsync("Rejected", new() { Timeout = (float)ProcessingWait.TotalMilliseconds });
        await Assertions.Expect(page.Locator(".rejection-reason")).ToContainTextAsync("out of stock");
        await shots.TakeAsync("order-rejected");
    }

    [Fact]
    public async Task TheSameCartIsSeenWhicheverReplicaAnswers()
    {
        var firstProduct = (await TestProducts.CreateAsync(Graph.App, stock: 50)).Id;
        using var shopper = new ShopFrontClient(Site);
        await shopper.AddToCartAsync(firstProduct, 1);

        var servedBy = new HashSet<string>();
        for (var i = 0; i < 10; i++)
        {
            using var cart = await shopper.Http.GetAsync("/cart");
            Assert.Contains($"data-product-id=\"{firstProduct}\"", await cart.Content.ReadAsStringAsync());
            servedBy.Add(cart.Headers.GetValues("X-Served-By").Single());
        }

        Assert.Equal(2, servedBy.Count);
    }

    [Fact]
    public async Task ARepeatedlySubmittedCheckoutPlacesOneOrder()
    {
        var firstProduct = (await TestProducts.CreateAsync(Graph.App, stock: 50)).Id;
        using var shopper = new ShopFrontClient(Site);
        await shopper.AddToCartAsync(firstProduct, 1);

        // The same filled-in form sent three times at once, as impatient clicks do.
        var form = await shopper.FilledCheckoutFormAsync();
        var orderPages = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => shopper.SubmitCheckoutAsync(form)));

        // And once more after the order is placed and the cart emptied, as a click on a slow page's stale form does.
        orderPages = [.. orderPages, await shopper.SubmitCheckoutAsync(form)];

        Assert.All(orderPages, location => Assert.Matches("/orders/[0-9a-f-]{36}$", location));
        Assert.Single(orderPages.Distinct());
        Assert.Single(OrderLink().Matches(await shopper.Http.GetStringAsync("/orders")));
    }
}
