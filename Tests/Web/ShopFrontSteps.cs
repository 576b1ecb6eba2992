using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Web;

/// <summary>The shoppers' site in a real browser (Debian chromium through Playwright): one browser per test class, a fresh context per shopper, and the steps every shop front test takes.</summary>
public abstract partial class ShopFrontSteps(ShopGraphFixture graph) : IAsyncLifetime
{
    protected ShopGraphFixture Graph { get; } = graph;

    protected static readonly TimeSpan ProcessingWait = TimeSpan.FromSeconds(30);

    private IPlaywright _playwright = null!;

    private IBrowser _browser = null!;

    protected Uri Site => Graph.App.GetEndpoint("web-blazor");

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    [GeneratedRegex("href=\"/orders/[0-9a-f-]{36}\"")]
    protected static partial Regex OrderLink();

    protected static string Money(decimal amount) => amount.ToString("C", System.Globalization.CultureInfo.GetCultureInfo("en-GB"));

    protected static async Task FillCheckoutAsync(IPage page)
    {
        await page.FillAsync("#name", "Grace Hopper");
        await page.FillAsync("#email", "grace@example.com");
        await page.FillAsync("#street", "1 Harbour Street");
        await page.FillAsync("#city", "Portsmouth");
        await page.FillAsync("#postal-code", "PO1 2AB");
        await page.FillAsync("#country", "United Kingdom");
    }

    /// <summary>
    /// Clicks "Add to cart" on the product page shown and waits for the cart. When the site answers otherwise (a
    /// problem redirect back to the product, a 429, an error page), the failure says which, instead of a navigation
    /// timeout that says nothing.
    /// </summary>
    protected static async Task AddToCartAsync(IPage page)
    {
        var post = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("text=Add to cart"),
            response => response.Request.Method == "POST" && new Uri(response.Url).AbsolutePath == "/cart/add");
        var location = await post.HeaderValueAsync("location");
        if (post.Status == 302 && location == "/cart")
        {
            await page.WaitForURLAsync(new Regex("/cart$"));
            return;
        }

        var body = post.Status is >= 300 and < 400 ? "" : await post.TextAsync();
        Assert.Fail($"Add to cart was answered {post.Status} (location {location ?? "none"}, retry-after {await post.HeaderValueAsync("retry-after") ?? "none"}): {body[..Math.Min(body.Length, 2_000)]}");
    }

    protected static async Task<int> CartLineCountAsync(IPage page)
    {
        await page.GotoAsync("/cart");
        return await page.Locator(".cart-line").CountAsync();
    }

    protected async Task<(IPage Page, Screenshots Shots)> NewShopperAsync(string testName)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Site.ToString(), ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        return (page, new Screenshots(page, testName));
    }

    protected Task SetStockAsync(int productId, int stock) => CatalogStock.SetAsync(Graph.App, productId, stock);

    /// <summary>Numbered full-page screenshots of one test, in TestResults/screenshots/TEST next to the TRX results.</summary>
    protected sealed class Screenshots(IPage page, string testName)
    {
        private readonly string _folder = Path.Combine(RepositoryPaths.Root, "TestResults", "screenshots", testName);
        private int _step;

        public async Task TakeAsync(string step)
        {
            // Pictures load after the page: wait for them, so the screenshot shows what a shopper sees.
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(_folder, $"{++_step:00}-{step}.png"), FullPage = true });
        }
    }
}
