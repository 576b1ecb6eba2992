namespace Catalog.Api.Catalog;

/// <summary>The <c>Catalog:Cache</c> settings; <see cref="Enabled"/> exists so benchmarks can measure the uncached path.</summary>
public sealed class CatalogCacheOptions
{
    public const string SectionName = "Catalog:Cache";

    /// <summary>How long an API replica keeps an entry in memory: the bound on how stale another replica can be.</summary>
    public static readonly TimeSpan LocalExpiration = TimeSpan.FromSeconds(5);

    /// <summary>How long an entry lives in Redis (tags invalidate it sooner when its data changes).</summary>
    public static readonly TimeSpan Expiration = TimeSpan.FromMinutes(10);

    public bool Enabled { get; set; } = true;
}

/// <summary>Cache tags: an entry carries the tag of everything it shows, and a write invalidates the tags it touches.</summary>
public static class CatalogCacheTags
{
    /// <summary>Every list page and search result (any product change can move, add or drop items on them).</summary>
    public const string ProductLists = "product-lists";

    public const string Brands = "brands";

    public const string Types = "types";

    public static string Product(int id) => $"product:{id}";
}
