using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Observability;

/// <summary>
/// A client's mistake is not a server error: malformed requests get their 4xx and are logged at Information with the
/// reason (or, rejected by Kestrel or routing before any endpoint runs, not at all), never as an Error-level "unhandled exception";
/// asserted on the log records Catalog.Api really exported.
/// </summary>
[Collection(ShopGraphCollection.Name)]
public sealed class BadRequestLogTests(ShopGraphFixture graph)
{
    private const int OtlpError = 17;

    [Fact]
    public async Task MalformedRequestsAreAnsweredWithoutErrorLogs()
    {
        using var api = graph.App.CreateHttpClient("catalog-api");
        using var admin = graph.App.CreateHttpClient("catalog-api");
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
            await CatalogAdminTokens.CreateAsync(graph.App, $"test-{Guid.NewGuid():N}"));

        var rejected = new List<string>();
        async Task<HttpStatusCode> SendAsync(HttpClient client, HttpRequestMessage request, bool reachesTheEndpoint = true)
        {
            var trace = TestTrace.New();
            request.Headers.TryAddWithoutValidation("traceparent", trace.TraceParent);
            using var response = await client.SendAsync(request);
            if (reachesTheEndpoint)
            {
                rejected.Add(trace.TraceId);
            }

            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.BadRequest, await SendAsync(api, new HttpRequestMessage(HttpMethod.Get, "/api/v1/products?page=abc")));
        Assert.Equal(HttpStatusCode.BadRequest, await SendAsync(admin, new HttpRequestMessage(HttpMethod.Post, "/api/v1/products")
        {
            Content = new StringContent("{\"name\": ", Encoding.UTF8, "application/json"),
        }));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, await SendAsync(admin, new HttpRequestMessage(HttpMethod.Post, "/api/v1/products")
        {
            Content = new StringContent("name=Mug", Encoding.UTF8, "text/plain"),
        }, reachesTheEndpoint: false)); // routing answers 415 itself
        Assert.Equal(HttpStatusCode.RequestUriTooLong, await SendAsync(api,
            new HttpRequestMessage(HttpMethod.Get, "/api/v1/products?search=" + new string('a', 20_000)), reachesTheEndpoint: false));
        var bigHeaders = new HttpRequestMessage(HttpMethod.Get, "/api/v1/products");
        bigHeaders.Headers.TryAddWithoutValidation("X-Padding", new string('a', 40_000));
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, await SendAsync(api, bigHeaders, reachesTheEndpoint: false));

        // Each rejection an endpoint saw is logged at Information with its reason, in the request's trace.
        await Eventually.UntilAsync(() => rejected.All(Logged), all => all, TimeSpan.FromSeconds(15));
        Assert.All(rejected, traceId => Assert.True(Logged(traceId), $"no 'Rejected' log in trace {traceId}"));
        var logs = graph.Telemetry.Logs.Where(log => log.Service == "catalog-api").ToList();
        Assert.All(logs.Where(log => rejected.Contains(log.TraceId)), log => Assert.True(log.Severity < OtlpError, $"{log.Severity}: {log.Body}"));
        Assert.DoesNotContain(logs, log => log.Severity >= OtlpError && log.Body.Contains("unhandled exception", StringComparison.OrdinalIgnoreCase));

        bool Logged(string traceId) => graph.Telemetry.Logs.Any(log => log.Service == "catalog-api" && log.TraceId == traceId
            && log.Severity is > 0 and < OtlpError && log.Body.StartsWith("Rejected ", StringComparison.Ordinal));
    }
}
