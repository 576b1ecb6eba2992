using System.Net.Http.Json;
using System.Text.Json;
using Ordering.Api.Orders;
using Tests.Catalog;
using Tests.Ordering;
using Tests.WholeGraph;

namespace Tests.Observability;

/// <summary>Every service serves Prometheus metrics at /metrics, including the shop's own instruments, and Prometheus scrapes them all.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class MetricsEndpointTests(ShopGraphFixture graph)
{
    [Fact]
    public async Task ServicesServeTheirMetricsForPrometheus()
    {
        // A catalog read and an order, so the shop's counters have something to count.
        var product = await TestProducts.CreateAsync(graph.App);
        using (var api = graph.App.CreateHttpClient("catalog-api"))
        {
            (await api.GetAsync($"/api/v1/products/{product.Id}")).EnsureSuccessStatusCode();
        }

        using (var buyer = await BuyerTokens.ClientForAsync(graph.App, $"metrics-{Guid.NewGuid():N}"))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
            {
                Content = JsonContent.Create(new SubmitOrderRequest([new(product.Id, 1)], "Ada Lovelace", "ada@example.com",
                    new AddressRequest("1 Bench Road", "Leeds", "LS1 1AA", "United Kingdom"))),
            };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            (await buyer.SendAsync(request)).EnsureSuccessStatusCode();
        }

        await ScrapeUntilAsync("catalog-api", "aspireshop_postgres_replica_lag_seconds{", "aspireshop_catalog_cache_lookups_total",
            "http_server_request_duration_seconds_bucket");
        await ScrapeUntilAsync("ordering-api", "aspireshop_orders_submitted_total", "aspireshop_outbox_pending",
            "aspireshop_outbox_oldest_pending_age_seconds", "aspireshop_orders_stored{", "http_server_request_duration_seconds_bucket");
        await ScrapeUntilAsync("ordering-worker", "aspireshop_orders_decided_total{", "aspireshop_orders_processing_time_seconds_bucket",
            "aspireshop_rabbitmq_queue_depth{", "queue=\"ordering.order-submitted.dead-letter\"", "aspireshop_mail_owed{", "aspireshop_mail_oldest_owed_age_seconds{");
        await ScrapeUntilAsync("web-blazor", "http_server_request_duration_seconds_bucket", "http_client_request_duration_seconds_bucket");
    }

    [Fact]
    public async Task PrometheusScrapesEveryReplicaOfEveryService()
    {
        // One target per replica: two of each service.
        string[] jobs = ["catalog-api", "catalog-api", "ordering-api", "ordering-api", "ordering-worker", "ordering-worker", "web-blazor", "web-blazor"];
        using var prometheus = new HttpClient { BaseAddress = graph.App.GetEndpoint("prometheus", "http") };
        var targets = await Eventually.UntilAsync(async () =>
        {
            using var answer = JsonDocument.Parse(await prometheus.GetStringAsync("/api/v1/targets?state=active"));
            return answer.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
                .Select(t => (Job: t.GetProperty("labels").GetProperty("job").GetString()!, Health: t.GetProperty("health").GetString()!))
                .ToList();
        }, found => found.Count == jobs.Length && found.All(t => t.Health == "up"), TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));

        Assert.Equal(jobs, targets.Select(t => t.Job).Order());
        Assert.All(targets, t => Assert.Equal("up", t.Health));
    }

    /// <summary>
    /// Scrapes the service (each new connection may reach another replica, whose counters may still be empty) until
    /// one answer has every expected series.
    /// </summary>
    private async Task ScrapeUntilAsync(string service, params string[] expected)
    {
        var missing = await Eventually.UntilAsync(async () =>
        {
            using var client = graph.App.CreateHttpClient(service);
            client.DefaultRequestHeaders.ConnectionClose = true;
            var metrics = await client.GetStringAsync("/metrics");
            return expected.Where(series => !metrics.Contains(series, StringComparison.Ordinal)).ToArray();
        }, absent => absent.Length == 0, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));

        Assert.True(missing.Length == 0, $"{service} /metrics lacks {string.Join(", ", missing)}");
    }
}
