using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using Catalog.Api.Catalog.Data;
using Catalog.Api.Operations;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;

namespace Catalog.Api.Catalog;

/// <summary>
/// Every catalog read: from HybridCache (memory, then Redis) when it can, otherwise from a READ REPLICA, and from the
/// PRIMARY only for a client that must read its own recent write. HybridCache runs one query per key however many
/// requests miss at once (stampede protection).
/// </summary>
// Database contexts are resolved only when a read misses the cache (taking pooled contexts for every request would
// cost more than serving a hit). A cache fill gets a scope of its own: HybridCache shares it among all requests
// waiting for that key, and it must not depend on the first of them still running.
public sealed class CatalogReader(
    HybridCache cache, IOptions<CatalogCacheOptions> options, IServiceProvider requestServices, IServiceScopeFactory scopes, CatalogApiMetrics metrics)
{
    private static readonly HybridCacheEntryOptions EntryOptions = new()
    {
        Expiration = CatalogCacheOptions.Expiration,
        LocalCacheExpiration = CatalogCacheOptions.LocalExpiration,
    };

    public ValueTask<CachedBody> ProductAsync(int id, ReadConsistency consistency, CancellationToken cancellationToken)
        => ReadAsync($"product:{id}", [CatalogCacheTags.Product(id)], consistency, id,
            static (db, id, ct) => QueryProductAsync(db, id, ct), cancellationToken);

    public ValueTask<CachedBody> PictureAsync(int id, ReadConsistency consistency, CancellationToken cancellationToken)
        => ReadAsync($"picture:{id}", [CatalogCacheTags.Product(id)], consistency, id,
            static (db, id, ct) => QueryPictureAsync(db, id, ct), cancellationToken);

    public ValueTask<CachedBody> ProductsAsync(IReadOnlyList<int> ids, ReadConsistency consistency, CancellationToken cancellationToken)
        => ReadAsync($"products:ids:{string.Join(',', ids)}", [.. ids.Select(CatalogCacheTags.Product)], consistency, ids,
            static (db, ids, ct) => QueryProductsAsync(db, ids, ct), cancellationToken);

    public ValueTask<CachedBody> PageAsync(ProductListQuery query, ReadConsistency consistency, CancellationToken cancellationToken)
        => ReadAsync(
            $"products:page:{query.Page}:{query.PageSize}:{query.BrandId}:{query.TypeId}:{query.Search?.ToLowerInvariant()}",
            [CatalogCacheTags.ProductLists], consistency, query,
            static (db, query, ct) => QueryPageAsync(db, query, ct), cancellationToken);

    public ValueTask<CachedBody> BrandsAsync(ReadConsistency consistency, CancellationToken cancellationToken)
        => ReadAsync("brands", [CatalogCacheTags.Brands], consistency, 0, static async (db, _, ct) => Serialize(
            await db.Brands.AsNoTracking().OrderBy(b => b.Name).Select(b => new BrandDto(b.Id, b.Name)).ToListAsync(ct),
            CatalogJsonContext.Default.ListBrandDto), cancellationToken);

    public ValueTask<CachedBody> TypesAsync(ReadConsistency consistency, CancellationToken cancellationToken)
        => ReadAsync("types", [CatalogCacheTags.Types], consistency, 0, static async (db, _, ct) => Serialize(
            await db.Types.AsNoTracking().OrderBy(t => t.Name).Select(t => new ProductTypeDto(t.Id, t.Name)).ToListAsync(ct),
            CatalogJsonContext.Default.ListProductTypeDto), cancellationToken);

    /// <summary>The product as the primary has it now (for answers to writes).</summary>
    public static Task<ProductDto> FromPrimaryAsync(CatalogDbContext primary, int id, CancellationToken cancellationToken)
        => primary.Products.AsNoTracking().Where(p => p.Id == id).Select(ToDto).SingleAsync(cancellationToken);

    private async ValueTask<CachedBody> ReadAsync<TState>(
        string key, string[] tags, ReadConsistency consistency, TState state,
        Func<CatalogDbContext, TState, CancellationToken, Task<CachedBody>> query, CancellationToken cancellationToken)
    {
        if (consistency.MustReadPrimary)
        {
            return await query(requestServices.GetRequiredService<CatalogDbContext>(), state, cancellationToken);
        }

        if (!options.Value.Enabled)
        {
            return await query(requestServices.GetRequiredService<CatalogReadDbContext>(), state, cancellationToken);
        }

        metrics.CacheLookups.Add(1);
        return await cache.GetOrCreateAsync(
            key,
            (scopes, state, query, metrics),
            static async (s, ct) =>
            {
                s.metrics.CacheMisses.Add(1);
                await using var scope = s.scopes.CreateAsyncScope();
                return await s.query(scope.ServiceProvider.GetRequiredService<CatalogReadDbContext>(), s.state, ct);
            },
            EntryOptions,
            tags,
            cancellationToken);
    }

    private static readonly System.Linq.Expressions.Expression<Func<Product, ProductDto>> ToDto = p => new ProductDto(
        p.Id, p.Name, p.Description, p.Price, p.BrandId, p.Brand.Name, p.TypeId, p.Type.Name, p.AvailableStock,
        PictureUrl(p.Id, p.Version), p.Version);

    public static string PictureUrl(int id, uint version) => $"/api/v1/products/{id}/picture?v={version}";

    private static async Task<CachedBody> QueryProductAsync(CatalogDbContext db, int id, CancellationToken cancellationToken)
    {
        var product = await db.Products.AsNoTracking().Where(p => p.Id == id).Select(ToDto).SingleOrDefaultAsync(cancellationToken);
        return product is null ? CachedBody.Missing : Serialize(product, CatalogJsonContext.Default.ProductDto);
    }

    private static async Task<CachedBody> QueryPictureAsync(CatalogDbContext db, int id, CancellationToken cancellationToken)
    {
        var row = await db.Products.AsNoTracking().Where(p => p.Id == id)
            .Select(p => new { Product = p, Brand = p.Brand.Name, Type = p.Type.Name })
            .SingleOrDefaultAsync(cancellationToken);
        return row is null ? CachedBody.Missing : CachedBody.Of(ProductPictures.Render(row.Product, row.Brand, row.Type));
    }

    private static async Task<CachedBody> QueryProductsAsync(CatalogDbContext db, IReadOnlyList<int> ids, CancellationToken cancellationToken)
    {
        var products = await db.Products.AsNoTracking().Where(p => ids.Contains(p.Id)).OrderBy(p => p.Id)
            .Select(ToDto).ToListAsync(cancellationToken);
        return Serialize(products, CatalogJsonContext.Default.ListProductDto);
    }

    private static async Task<CachedBody> QueryPageAsync(CatalogDbContext db, ProductListQuery query, CancellationToken cancellationToken)
    {
        var products = db.Products.AsNoTracking();
        if (query.BrandId is { } brandId)
        {
            products = products.Where(p => p.BrandId == brandId);
        }

        if (query.TypeId is { } typeId)
        {
            products = products.Where(p => p.TypeId == typeId);
        }

        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var pattern = $"%{EscapeLikePattern(query.Search.Trim())}%";
            products = products.Where(p => EF.Functions.ILike(p.Name, pattern, @"\"));
        }

        var total = await products.CountAsync(cancellationToken);
        var items = await products.OrderBy(p => p.Id)
            .Skip((query.Page - 1) * query.PageSize).Take(query.PageSize)
            .Select(ToDto).ToListAsync(cancellationToken);
        return Serialize(new ProductPage(query.Page, query.PageSize, total, items), CatalogJsonContext.Default.ProductPage);
    }

    // The search text is matched literally: %, _ and \ typed by a shopper are not wildcards.
    private static string EscapeLikePattern(string text)
        => text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");

    private static CachedBody Serialize<T>(T value, JsonTypeInfo<T> typeInfo)
        => CachedBody.Of(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));
}
