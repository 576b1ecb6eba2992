using AspireShop.Ordering.Sharding;

namespace AspireShop.Ordering.Relaying;

/// <summary>
/// Wakes a polling relay as soon as there is work, so it does not wait for its next poll. Signals coalesce: many
/// notifications before the relay wakes count as one, because the relay reads everything pending anyway.
/// </summary>
public abstract class WakeUpSignal
{
    private readonly SemaphoreSlim _pending = new(0, 1);

    public void Notify()
    {
        try
        {
            _pending.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _pending.WaitAsync(timeout, cancellationToken);
}

/// <summary>One wake-up signal per order shard, so a commit on one shard wakes only that shard's relay.</summary>
public abstract class PerShardSignals<TSignal>(OrderShardMap map) where TSignal : WakeUpSignal, new()
{
    private readonly TSignal[] _signals = [.. map.Shards.Select(_ => new TSignal())];

    public TSignal For(OrderShard shard) => _signals[shard.Number - 1];
}
