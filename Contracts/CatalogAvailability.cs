namespace AspireShop.Contracts;

/// <summary>
/// How the shop shows a product's stock: in stock, "only N left" at <see cref="LowStock"/> or fewer, out of stock.
/// Lists show only that band, so a stock change that stays above <see cref="LowStock"/> leaves every list as it was,
/// and Ordering.Worker invalidates the cached lists only when an order leaves a product at or below it.
/// </summary>
public static class CatalogAvailability
{
    public const int LowStock = 5;
}
