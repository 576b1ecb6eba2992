using System.Net.Http.Json;
using Catalog.Api.Catalog;

namespace Tests.Catalog;

/// <summary>
/// Products a test makes for itself through the admin API, as a catalog administrator would: the test owns their stock
/// and nothing it asserts depends on the seed's ids or counts, or on what another test ordered.
/// </summary>
public static class TestProducts
{
    public static async Task<ProductDto> CreateAsync(
        DistributedApplication app, int stock = 1_000, decimal price = 9.99m, string? name = null, int? brandId = null, int? typeId = null)
    {
        using var admin = app.CreateHttpClient("catalog-api");
        admin.DefaultRequestHeaders.Authorization = new("Bearer", await CatalogAdminTokens.CreateAsync(app, $"test-products-{Guid.NewGuid():N}"));
        brandId ??= (await admin.GetFromJsonAsync<List<BrandDto>>("/api/v1/brands"))![0].Id;
        typeId ??= (await admin.GetFromJsonAsync<List<ProductTypeDto>>("/api/v1/types"))![0].Id;
        using var created = await admin.PostAsJsonAsync("/api/v1/products", new ProductWriteRequest(
            name ?? $"Test product {Guid.NewGuid():N}", "Made by a test.", price, brandId.Value, typeId.Value, stock));
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<ProductDto>())!;
    }

    /// <summary>The ids of <paramref name="count"/> new products, each with <paramref name="stock"/> units.</summary>
    public static async Task<int[]> CreateManyAsync(DistributedApplication app, int count, int stock = 1_000)
    {
        var ids = new int[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = (await CreateAsync(app, stock)).Id;
        }

        return ids;
    }
}
