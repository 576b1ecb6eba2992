namespace AspireShop.Contracts;

/// <summary>
/// The keys (and pub/sub channels) of the shared Redis each service uses, spelled here once: the services name their
/// keys with these, and where the AppHost runs Redis it gives each service a user limited to its own keyspace, so the
/// site's carts and data-protection keys are closed to the catalog and the worker, and the catalog's cache to the site.
/// </summary>
public static class CacheKeyspaces
{
    /// <summary>A buyer's cart, a hash of product id to quantity: <c>cart:{buyerId}</c>.</summary>
    public const string CartPrefix = "cart:";

    /// <summary>Which order a checkout became: <c>checkout:{buyerId}:{idempotencyKey}</c>.</summary>
    public const string CheckoutPrefix = "checkout:";

    /// <summary>The site's data-protection key ring (its cookies' keys), a list.</summary>
    public const string SiteKeyRing = "aspireshop:data-protection-keys";

    /// <summary>The site's keys (Web.Blazor), as Redis glob patterns.</summary>
    public static readonly CacheKeyspace Site = new([$"{CartPrefix}*", $"{CheckoutPrefix}*", SiteKeyRing], []);

    /// <summary>
    /// The catalog's HybridCache (FusionCache, ServiceDefaults' AddSharedHybridCache), written by Catalog.Api and
    /// evicted by the worker: its second level prefixes every entry and tag with its wire format's version, and its
    /// backplane publishes evictions on channels of its own name.
    /// </summary>
    public static readonly CacheKeyspace CatalogCache = new(["v2:*"], ["FusionCache.Backplane:*"]);
}

/// <summary>Redis glob patterns of the keys and the channels a service may use.</summary>
public sealed record CacheKeyspace(IReadOnlyList<string> KeyPatterns, IReadOnlyList<string> ChannelPatterns);
