using System.Net;
using System.Text.RegularExpressions;

namespace Tests.Web;

/// <summary>One shopper talking HTTP to the site, as a browser without JavaScript does: cookies, forms, antiforgery tokens.</summary>
public sealed partial class ShopFrontClient : IDisposable
{
    private readonly HttpClient _http;
    private string? _antiforgery;

    public ShopFrontClient(Uri site)
    {
        _http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = site };
        // The orchestrator's proxy balances connections, not requests: a new connection per request, as many shoppers make.
        _http.DefaultRequestHeaders.ConnectionClose = true;
    }

    public HttpClient Http => _http;

    /// <summary>
    /// Waits until both site replicas answer <paramref name="path"/> without <paramref name="notice"/>. Each replica
    /// finds a returning dependency on its own schedule (a circuit breaker's break, a Redis reconnect back-off of up
    /// to 10 s), and one replica coming back says nothing about the other: a test that took a dependency away calls
    /// this so the next test finds the site whole.
    /// </summary>
    public async Task UntilBothReplicasServeAsync(string path, string notice)
    {
        var recovered = new HashSet<string>();
        await Eventually.UntilAsync(async () =>
        {
            using var page = await _http.GetAsync(path);
            if (page.IsSuccessStatusCode && !(await page.Content.ReadAsStringAsync()).Contains(notice, StringComparison.Ordinal))
            {
                recovered.Add(page.Headers.GetValues("X-Served-By").Single());
            }

            return recovered.Count;
        }, count => count == 2, TimeSpan.FromMinutes(1));
        Assert.Equal(2, recovered.Count);
    }

    public async Task AddToCartAsync(int productId, int quantity)
    {
        var productPage = await _http.GetStringAsync($"/products/{productId}");
        using var add = await _http.PostAsync("/cart/add", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["productId"] = productId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["quantity"] = quantity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["__RequestVerificationToken"] = AntiforgeryField().Match(productPage).Groups[1].Value,
        }));
        Assert.Equal(HttpStatusCode.Redirect, add.StatusCode);
        Assert.Equal("/cart", add.Headers.Location?.ToString());
    }

    /// <summary>
    /// Posts one of the cart's forms (<c>/cart/add</c>, <c>/cart/update</c>, <c>/cart/remove</c>) with any product id,
    /// as a script that skips the pages would, with the antiforgery token of the shopper's first product page; returns
    /// where it redirects.
    /// </summary>
    public async Task<string?> PostCartFormAsync(string path, int productId, int quantity, int tokenFromProduct)
    {
        _antiforgery ??= AntiforgeryField().Match(await _http.GetStringAsync($"/products/{tokenFromProduct}")).Groups[1].Value;
        using var post = await _http.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["productId"] = productId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["quantity"] = quantity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["__RequestVerificationToken"] = _antiforgery,
        }));
        Assert.Equal(HttpStatusCode.Redirect, post.StatusCode);
        return post.Headers.Location?.ToString();
    }

    /// <summary>How many lines the cart page shows.</summary>
    public async Task<int> CartLinesAsync() => CartLine().Matches(await _http.GetStringAsync("/cart")).Count;

    /// <summary>The checkout form as the site serves it, filled in with valid details.</summary>
    public async Task<Dictionary<string, string>> FilledCheckoutFormAsync()
    {
        var checkout = await _http.GetStringAsync("/checkout");
        return new Dictionary<string, string>
        {
            ["_handler"] = "checkout",
            ["__RequestVerificationToken"] = AntiforgeryField().Match(checkout).Groups[1].Value,
            ["Form.CheckoutKey"] = CheckoutKeyField().Match(checkout).Groups[1].Value,
            ["Form.Name"] = "Grace Hopper",
            ["Form.Email"] = "grace@example.com",
            ["Form.Street"] = "1 Harbour Street",
            ["Form.City"] = "Portsmouth",
            ["Form.PostalCode"] = "PO1 2AB",
            ["Form.Country"] = "United Kingdom",
        };
    }

    /// <summary>Submits the checkout form; returns the order page it redirects to.</summary>
    public async Task<string?> SubmitCheckoutAsync(Dictionary<string, string> form, string? traceParent = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/checkout") { Content = new FormUrlEncodedContent(form) };
        if (traceParent is not null)
        {
            request.Headers.Add("traceparent", traceParent);
        }

        using var response = await _http.SendAsync(request);
        return response.Headers.Location?.ToString();
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("<tr class=\"cart-line\"")]
    private static partial Regex CartLine();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [GeneratedRegex("name=\"Form.CheckoutKey\" value=\"([^\"]+)\"")]
    private static partial Regex CheckoutKeyField();
}
