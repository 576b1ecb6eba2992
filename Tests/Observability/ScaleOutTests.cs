using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Catalog.Api.Catalog;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Observability;

/// <summary>
/// Catalog.Api runs as two replicas: each serves requests, the site spreads its calls over both, and a cache
/// invalidation in one reaches the other's memory through the backplane.
/// </summary>
[Collection(ShopGraphCollection.Name)]
public sealed partial class ScaleOutTests(ShopGraphFixture graph)
{
    [Fact]
    public async Task RequestsToTheCatalogApiAreServedByBothReplicas()
    {
        var product = await TestProducts.CreateAsync(graph.App);
        var servedBy = new HashSet<string>();
        for (var i = 0; i < 20 && servedBy.Count < 2; i++)
        {
            // A new connection each time: the orchestrator's proxy picks a replica per connection.
            using var api = graph.App.CreateHttpClient("catalog-api");
            api.DefaultRequestHeaders.ConnectionClose = true;
            using var response = await api.GetAsync($"/api/v1/products/{product.Id}");
            response.EnsureSuccessStatusCode();
            servedBy.Add(response.Headers.GetValues("X-Served-By").Single());
        }

        Assert.Equal(2, servedBy.Count);
    }

    [Fact]
    public async Task TheSiteSpreadsItsCatalogCallsOverBothApiReplicas()
    {
        var product = await TestProducts.CreateAsync(graph.App);
        var replicas = await graph.App.RunningReplicasAsync("catalog-api");
        Assert.Equal(2, replicas.Count);
        var before = await Task.WhenAll(replicas.Select(replica => CacheLookupsAsync(replica.Http)));

        // One keep-alive connection to one site replica: whatever spreading happens is the site's own.
        using var site = graph.App.CreateHttpClient("web-blazor");
        for (var i = 0; i < 20; i++)
        {
            (await site.GetAsync($"/products/{product.Id}")).EnsureSuccessStatusCode();
        }

        // A replica's /metrics answer is cached for a moment (the exporter's scrape cache), and 20 warm page views can
        // take less than that: read until the counts have caught up.
        var served = await Eventually.UntilAsync(async () => (await Task.WhenAll(replicas.Select(replica => CacheLookupsAsync(replica.Http))))
            .Zip(before, (after, earlier) => after - earlier).ToArray(), counts => counts.All(count => count >= 5), TimeSpan.FromSeconds(10));
        Assert.All(served, count => Assert.True(count >= 5, $"catalog reads per API replica: {string.Join(", ", served)}"));
    }

    [Fact]
    public async Task AnInvalidationInOneApiReplicaReachesTheOtherAtOnce()
    {
        var replicas = await graph.App.RunningReplicasAsync("catalog-api");
        Assert.Equal(2, replicas.Count);
        using var writer = new HttpClient { BaseAddress = replicas[0].Http };
        using var reader = new HttpClient { BaseAddress = replicas[1].Http };
        writer.DefaultRequestHeaders.Authorization = new("Bearer", await CatalogAdminTokens.CreateAsync(graph.App, $"scale-{Guid.NewGuid():N}"));

        // Both replicas now hold the product in memory.
        var id = (await TestProducts.CreateAsync(graph.App)).Id;
        var cached = (await reader.GetFromJsonAsync<ProductDto>($"/api/v1/products/{id}"))!;
        Assert.Equal(cached, await writer.GetFromJsonAsync<ProductDto>($"/api/v1/products/{id}"));

        var newStock = cached.AvailableStock + 7;
        using (var write = await writer.PutAsJsonAsync($"/api/v1/products/{id}/stock", new StockUpdateRequest(newStock, cached.Version)))
        {
            write.EnsureSuccessStatusCode();
        }

        // Far inside the 10 s the other replica would otherwise keep its in-memory copy (as it did with Microsoft's
        // HybridCache, whose tag removals stay in the calling process): the invalidation reached it through Redis.
        var seen = await Eventually.UntilAsync(async () => (await reader.GetFromJsonAsync<ProductDto>($"/api/v1/products/{id}"))!,
            product => product.AvailableStock == newStock, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(50));
        Assert.Equal(newStock, seen.AvailableStock);
        Assert.True(CatalogCacheOptions.LocalExpiration >= TimeSpan.FromSeconds(10));
    }

    private static async Task<long> CacheLookupsAsync(Uri replica)
    {
        using var client = new HttpClient { BaseAddress = replica };
        var metrics = await client.GetStringAsync("/metrics");
        return CacheLookupsSeries().Matches(metrics).Sum(match => long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^aspireshop_catalog_cache_lookups_total(?:\{[^}]*\})? (\d+)", RegexOptions.Multiline)]
    private static partial Regex CacheLookupsSeries();
}
