using System.Net.Http.Json;
using Catalog.Api.Catalog;

namespace Tests.Catalog;

/// <summary>Sets a product's stock through the admin API, as a catalog administrator would (read its version, then write).</summary>
public static class CatalogStock
{
    public static async Task SetAsync(DistributedApplication app, int productId, int stock)
    {
        using var admin = app.CreateHttpClient("catalog-api");
        admin.DefaultRequestHeaders.Authorization = new("Bearer", await CatalogAdminTokens.CreateAsync(app, $"stock-{Guid.NewGuid():N}"));
        using var read = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/products/{productId}");
        read.Headers.Add(ReadConsistency.HeaderName, ReadConsistency.TokenFor(DateTimeOffset.UtcNow));
        using var current = await admin.SendAsync(read);
        var product = (await current.Content.ReadFromJsonAsync<ProductDto>())!;
        using var write = await admin.PutAsJsonAsync($"/api/v1/products/{productId}/stock", new StockUpdateRequest(stock, product.Version));
        write.EnsureSuccessStatusCode();
    }
}
