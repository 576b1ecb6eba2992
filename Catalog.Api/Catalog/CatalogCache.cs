namespace Catalog.Api.Catalog;

/// <summary>The <c>Catalog:Cache</c> settings; <see cref="Enabled"/> exists so benchmarks can measure the uncached path.</summary>
public sealed class CatalogCacheOptions
{
    public const string SectionName = "Catalog:Cache";

    /// <summary>
    /// How long an API replica keeps an entry in memory. Invalidations reach every replica through the cache's
    /// backplane at once; this is the bound when a backplane message is lost (Redis unreachable at that moment), so it
    /// must stay below <see cref="ReadConsistency.Window"/>.
    /// </summary>
    public static readonly TimeSpan LocalExpiration = TimeSpan.FromSeconds(10);

    /// <summary>How long an entry lives in Redis (tags invalidate it sooner when its data changes).</summary>
    public static readonly TimeSpan Expiration = TimeSpan.FromMinutes(10);

    public bool Enabled { get; set; } = true;
}
