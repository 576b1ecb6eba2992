using System.ComponentModel.DataAnnotations;
using System.Threading.Channels;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.Extensions.Options;
using Ordering.Api.Schema;
using Polly;
using Polly.Registry;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Ordering.Api.Orders;

/// <summary><c>Ordering:OutboxRecovery</c> settings.</summary>
public sealed class OutboxRecoveryOptions
{
    public const string Section = "Ordering:OutboxRecovery";

    /// <summary>
    /// How long after a start or a reconnection to the broker the workers are given to decide what the broker still
    /// holds, before the messages sent earlier and still unprocessed are taken as lost and published again.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan After { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// Publishes again the messages a broker confirmed and then lost. The relay marks a message sent once the broker
/// confirms it; a broker that restarts without its data (a container without a volume, a queue deleted by hand) leaves
/// those orders Submitted for ever, with an outbox that says their messages went out. Such a loss always ends the
/// relay's connection, so on every start and every reconnection this waits <see cref="OutboxRecoveryOptions.After"/>
/// and marks unsent again every message sent before that moment that no worker has processed (it has no inbox row);
/// the relay then publishes them. A message that was only slow is published twice, which the consumer's inbox makes
/// harmless. Sent messages are kept for <see cref="OrderOutboxRelay.SentRetention"/>, so a loss is recovered if the
/// service reconnects within that hour.
/// </summary>
public sealed class OrderOutboxRecovery(
    OrderShardMap shards, OrderingSchemaInitializer schema, IConnection broker, OrderOutboxSignals signals, TimeProvider clock,
    IOptions<OutboxRecoveryOptions> options, ResiliencePipelineProvider<string> pipelines, ILogger<OrderOutboxRecovery> logger)
    : BackgroundService
{
    private const int ScanWindow = 1_000;

    private readonly ResiliencePipeline _retry = pipelines.GetPipeline(ShopResilience.UntilStopped);
    private readonly Channel<DateTimeOffset> _connectedAt = Channel.CreateUnbounded<DateTimeOffset>();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _connectedAt.Writer.TryWrite(clock.GetUtcNow());
        broker.RecoverySucceededAsync += OnReconnectedAsync;
        try
        {
            await schema.Ready.WaitAsync(stoppingToken);
            await foreach (var connectedAt in _connectedAt.Reader.ReadAllAsync(stoppingToken))
            {
                var wait = connectedAt + options.Value.After - clock.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, clock, stoppingToken);
                }

                await Task.WhenAll(shards.Shards.Select(shard => RequeueShardAsync(shard, connectedAt, stoppingToken)));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            broker.RecoverySucceededAsync -= OnReconnectedAsync;
        }
    }

    private Task OnReconnectedAsync(object sender, AsyncEventArgs e)
    {
        _connectedAt.Writer.TryWrite(clock.GetUtcNow());
        return Task.CompletedTask;
    }

    private async Task RequeueShardAsync(OrderShard shard, DateTimeOffset sentBefore, CancellationToken cancellationToken)
    {
        var (lastId, requeued) = (0L, 0);
        while (true)
        {
            var window = await _retry.ExecuteAsync(
                async token => await RequeueWindowAsync(shard, lastId, sentBefore, token), cancellationToken);
            requeued += window.Requeued;
            if (window.LastId is not { } last)
            {
                break;
            }

            lastId = last;
            if (window.Requeued > 0)
            {
                signals.For(shard).Notify();
            }
        }

        if (requeued > 0)
        {
            logger.LogWarning(
                "{Count} order messages on {Shard} were confirmed by the broker before {SentBefore:O} and never processed: the broker lost them; they are published again",
                requeued, shard.Name, sentBefore);
        }
    }

    private static async Task<(long? LastId, int Requeued)> RequeueWindowAsync(
        OrderShard shard, long afterId, DateTimeOffset sentBefore, CancellationToken cancellationToken)
    {
        await using var connection = await shard.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await BucketOwnership.HoldAllOwnedAsync(connection, transaction, cancellationToken);
        var window = await ShardOrders.RequeueUnprocessedOutboxAsync(connection, transaction, afterId, sentBefore, ScanWindow, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return window;
    }
}
