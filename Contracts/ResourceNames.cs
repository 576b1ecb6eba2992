namespace AspireShop.Contracts;

/// <summary>
/// The names the AppHost gives its resources and the services read their connection strings and service addresses
/// by (<c>ConnectionStrings__catalogdb</c>, <c>services__ordering-api__http__0</c>): spelled here once, for both sides.
/// </summary>
public static class ResourceNames
{
    /// <summary>The catalog's primary database (products, stock and its ledger).</summary>
    public const string CatalogDb = "catalogdb";

    /// <summary>The catalog's streaming read replicas.</summary>
    public const string CatalogReadDb = "catalogdb-replica";

    /// <summary>The orders database on the Citus coordinator, which distributes it over the workers by buyer.</summary>
    public const string OrdersDb = "ordersdb";

    public const string Cache = "cache";

    public const string Messaging = "messaging";

    public const string CatalogApi = "catalog-api";

    public const string OrderingApi = "ordering-api";

    public const string OrderingWorker = "ordering-worker";

    public const string WebFrontend = "web-blazor";

    /// <summary>The load generator the dashboard starts and drives (run mode only).</summary>
    public const string LoadGenerator = "load-generator";
}
