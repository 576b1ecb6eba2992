namespace AspireShop.Catalog.Stock;

/// <summary>
/// Tags of the catalog's HybridCache entries: an entry carries the tag of everything it shows, and whatever changes
/// that data (Catalog.Api's admin writes, and Ordering.Worker's stock reservations through
/// <see cref="CatalogCacheInvalidation"/>) invalidates the tags it touches.
/// </summary>
public static class CatalogCacheTags
{
    /// <summary>Every list page and search result (any product change can move, add or drop items on them).</summary>
    public const string ProductLists = "product-lists";

    public const string Brands = "brands";

    public const string Types = "types";

    public static string Product(int id) => $"product:{id}";
}
