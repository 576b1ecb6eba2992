using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Catalog.Api.Catalog;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Tests.WholeGraph;

namespace Tests.Catalog;

/// <summary>Where catalog reads come from while the standby's replay is paused or Redis is down.</summary>
[Collection(FaultGraphCollection.Name)]
public sealed class CatalogFaultTests(FaultGraphFixture graph) : CatalogScaleSteps(graph)
{
    [Fact]
    public async Task PlainReadsComeFromTheReplicaAndReadYourWritesFromThePrimary()
    {
        var marker = $"changed behind the replica {Guid.NewGuid():N}";
        await using var standby = await OpenAsync(await StandbyConnectionStringAsync());
        await using var primary = await OpenAsync(await Graph.App.GetConnectionStringAsync("catalogdb"));
        using var api = Graph.App.CreateHttpClient("catalog-api");
        var probe = (await TestProducts.CreateAsync(Graph.App)).Id;

        // The standby keeps answering reads, from the state it had when replay was paused.
        await ExecuteAsync(standby, "SELECT pg_wal_replay_pause()");
        try
        {
            await ExecuteAsync(primary, $"UPDATE products SET \"Description\" = '{marker}' WHERE \"Id\" = {probe}");

            var plain = await api.GetFromJsonAsync<ProductDto>($"/api/v1/products/{probe}");
            Assert.NotEqual(marker, plain!.Description);

            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/products/{probe}");
            request.Headers.Add(ReadConsistency.HeaderName, ReadConsistency.TokenFor(DateTimeOffset.UtcNow));
            using var ownWrite = await api.SendAsync(request);
            Assert.Equal(marker, (await ownWrite.Content.ReadFromJsonAsync<ProductDto>())!.Description);
            Assert.Contains("no-cache", ownWrite.Headers.CacheControl!.ToString());
        }
        finally
        {
            await ExecuteAsync(standby, "SELECT pg_wal_replay_resume()");
            await RefreshThroughTheApiAsync(probe);
        }
    }

    [Fact]
    public async Task ReadsKeepWorkingWhileRedisIsDownAndHealthSaysDegraded()
    {
        using var api = Graph.App.CreateHttpClient("catalog-api");
        var uncached = await TestProducts.CreateAsync(Graph.App);

        await using (await Graph.App.StopAsync("cache"))
        {
            using var page = await api.GetAsync($"/api/v1/products?search={Uri.EscapeDataString(uncached.Name)}&pageSize=7");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            using var product = await api.GetAsync($"/api/v1/products/{uncached.Id}");
            Assert.Equal(HttpStatusCode.OK, product.StatusCode);

            using var health = JsonDocument.Parse(await api.GetStringAsync("/health"));
            Assert.Equal("Degraded", health.RootElement.GetProperty("status").GetString());
            Assert.Equal("Degraded", health.RootElement.GetProperty("checks").GetProperty("cache").GetString());
        }
    }
}
