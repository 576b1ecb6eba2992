using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.Extensions.Hosting;
using Polly;
using Polly.Registry;

namespace AspireShop.Ordering.Relaying;

/// <summary>
/// The loop both relays run, one per order shard: hand over a batch of what the shard owes (outbox messages to the
/// broker, mails to buyers), and when the batch was not full, sleep until the shard's signal or the next poll. A failure
/// is retried by the <see cref="ShopResilience.UntilStopped"/> pipeline, named after the relay and the shard, so a
/// broker or mail server outage only delays the work, which waits in its table.
/// <para>
/// A batch is claimed with <c>FOR UPDATE SKIP LOCKED</c> by the subclass, under the shard's owned buckets held shared
/// (<see cref="BucketOwnership.HoldAllOwnedAsync"/>), so relays in several processes share the work and a bucket
/// cannot move while its rows are in flight.
/// </para>
/// </summary>
public abstract class ShardedBatchRelay<TSignal>(OrderShardMap shards, PerShardSignals<TSignal> signals, ResiliencePipelineProvider<string> pipelines)
    : BackgroundService where TSignal : WakeUpSignal, new()
{
    private readonly ResiliencePipeline _retry = pipelines.GetPipeline(ShopResilience.UntilStopped);

    /// <summary>What the relay hands over, for the retry's log line ("order-outbox shard1").</summary>
    protected abstract string Name { get; }

    /// <summary>The most a batch claims; a full batch is followed at once by the next.</summary>
    protected abstract int BatchSize { get; }

    /// <summary>How long an idle relay sleeps when no signal wakes it: work committed by another process has none.</summary>
    protected abstract TimeSpan IdlePoll { get; }

    /// <summary>Claims, hands over and marks one batch of the shard's work; returns how many items it handled.</summary>
    protected abstract Task<int> RelayBatchAsync(OrderShard shard, CancellationToken cancellationToken);

    /// <summary>What must be ready before the first batch (the schema, say).</summary>
    protected virtual Task WhenReadyAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await WhenReadyAsync(stoppingToken);
        await Task.WhenAll(shards.Shards.Select(shard => RelayShardAsync(shard, stoppingToken)));
    }

    private async Task RelayShardAsync(OrderShard shard, CancellationToken stoppingToken)
    {
        var signal = signals.For(shard);
        var operation = $"{Name} {shard.Name}";
        while (!stoppingToken.IsCancellationRequested)
        {
            var context = ResilienceContextPool.Shared.Get(operation, stoppingToken);
            try
            {
                var relayed = await _retry.ExecuteAsync(
                    static (context, state) => new ValueTask<int>(state.Relay.RelayBatchAsync(state.Shard, context.CancellationToken)),
                    context, (Relay: this, Shard: shard));
                if (relayed < BatchSize)
                {
                    await signal.WaitAsync(IdlePoll, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }
    }
}
