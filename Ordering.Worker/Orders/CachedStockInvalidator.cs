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
    private readonly SemaphoreSlim _signal = new(0, 1);
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

        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Released by another batch in between: the invalidation is already due.
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await _signal.WaitAsync(stoppingToken);
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

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }
}
