using Microsoft.Extensions.Caching.Hybrid;

namespace AspireShop.Catalog.Stock;

public static class CatalogCacheInvalidation
{
    /// <summary>
    /// Drops the catalog's cached entries that show these products' stock (their pages, and every list when
    /// <paramref name="listsChanged"/>: a product reached or left <see cref="Contracts.CatalogAvailability.LowStock"/>).
    /// The cache's backplane carries the invalidation to every Catalog.Api replica.
    /// </summary>
    public static ValueTask ForgetStockOfAsync(this HybridCache cache, IEnumerable<int> productIds, bool listsChanged, CancellationToken cancellationToken)
        => cache.RemoveByTagAsync(
            [.. productIds.Select(CatalogCacheTags.Product), .. listsChanged ? [CatalogCacheTags.ProductLists] : Array.Empty<string>()],
            cancellationToken);
}
