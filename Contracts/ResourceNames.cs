namespace AspireShop.Contracts;

/// <summary>
/// The names the AppHost gives its resources and the services read their connection strings and service addresses
/// by (<c>ConnectionStrings__catalogdb</c>, <c>services__ordering-api__http__0</c>): spelled here once, for both sides.
/// </summary>
public static class ResourceNames
{
    /// <summary>The catalog's primary database (products, stock and its ledger); it also holds the order shard map.</summary>
    public const string CatalogDb = "catalogdb";

    /// <summary>The catalog's streaming read replicas.</summary>
    public const string CatalogReadDb = "catalogdb-replica";

    /// <summary>Order shard N's primary is <c>ordersdb-shardN</c>, numbered from 1 without gaps.</summary>
    public const string OrderShardPrefix = "ordersdb-shard";

    public const string Cache = "cache";

    public const string Messaging = "messaging";

    public const string CatalogApi = "catalog-api";

    public const string OrderingApi = "ordering-api";

    public const string OrderingWorker = "ordering-worker";

    public const string WebFrontend = "web-blazor";

    /// <summary>The load generator the dashboard starts and drives (run mode only).</summary>
    public const string LoadGenerator = "load-generator";

    public static string OrderShard(int number) => $"{OrderShardPrefix}{number}";
}
