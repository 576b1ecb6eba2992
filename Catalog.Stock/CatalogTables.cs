namespace AspireShop.Catalog.Stock;

/// <summary>
/// The catalog's tables that stock reservation reads and writes. Catalog.Api's model maps them (and its migrations
/// create them); the names are kept here so the model and the SQL of <see cref="CatalogStock"/> cannot drift apart.
/// </summary>
public static class CatalogTables
{
    public const string Products = "products";

    /// <summary>The stock ledger: one row per order whose stock was decided, written in the stock change's transaction.</summary>
    public const string StockReservations = "stock_reservations";
}

/// <summary>The stock decision for one order: reserved, or why not. Written once; a retried order reads it back.</summary>
public sealed class StockReservation
{
    public const int RejectionReasonMaxLength = 200;

    public Guid OrderId { get; set; }

    public bool Reserved { get; set; }

    public string? RejectionReason { get; set; }

    public DateTimeOffset DecidedAt { get; set; }
}
