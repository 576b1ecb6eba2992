using System.Threading.Channels;
using AspireShop.Catalog.Stock;
using Microsoft.Extensions.Caching.Hybrid;

namespace Ordering.Worker.Orders;

/// <summary>
/// Drops the catalog's cached copies of products whose stock changed, off the order consumer's path: the consumer
/// hands over the product ids once a batch commits and goes on to the next batch, and whatever arrives while an
/// invalidation is in flight goes out together in the next. Before, each batch waited for its own Redis writes and
/// backplane message before taking the next deliveries; under load the batches' products overlap, so one invalidation
/// now covers several batches. A cached copy can show the old stock a few milliseconds longer; it never shows it
/// longer than its expiry, which bounds every cached entry anyway.
/// </summary>
public sealed class CachedStockInvalidator(HybridCache cache, ILogger<CachedStockInvalidator> logger) : BackgroundService
{
    private readonly Lock _pending = new();
    // At most one wake-up is pending: a batch that finds one already due adds its products to what it will send.
    private readonly Channel<bool> _due = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private HashSet<int> _products = [];
    private bool _lists;

    /// <summary>Asks for these products' cached stock to be dropped, and every cached list page when <paramref name="listsChanged"/>.</summary>
    public void Forget(IEnumerable<int> productIds, bool listsChanged)
    {
        lock (_pending)
        {
            _products.UnionWith(productIds);
            _lists |= listsChanged;
        }

        _due.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await _due.Reader.ReadAsync(stoppingToken);
                await InvalidatePendingAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // What the last batches asked for still goes out, once, as the worker stops.
            await InvalidatePendingAsync(CancellationToken.None);
        }
    }

    private async Task InvalidatePendingAsync(CancellationToken cancellationToken)
    {
        HashSet<int> products;
        bool lists;
        lock (_pending)
        {
            (products, _products) = (_products, []);
            (lists, _lists) = (_lists, false);
        }

        if (products.Count == 0 && !lists)
        {
            return;
        }

        try
        {
            await cache.ForgetStockOfAsync(products, lists, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Could not invalidate the cached stock of {Count} products ({Problem}); it expires on its own.", products.Count, e.Message);
        }
    }
}
