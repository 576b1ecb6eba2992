using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Messaging;
using AspireShop.Ordering.Relaying;
using AspireShop.Ordering.Sharding;
using Ordering.Api.Schema;
using Polly.Registry;
using RabbitMQ.Client;

namespace Ordering.Api.Orders;

/// <summary>Wakes a shard's relay as soon as an order commits there.</summary>
public sealed class OrderOutboxSignal : WakeUpSignal;

/// <summary>One wake-up signal per order shard.</summary>
public sealed class OrderOutboxSignals(OrderShardMap map) : PerShardSignals<OrderOutboxSignal>(map);

/// <summary>
/// Publishes the order outbox of every shard to RabbitMQ: persistent messages, publisher confirms, and a message is
/// marked sent only after the broker confirmed it. The relays of several API replicas share the work without sending a
/// message twice at once (see <see cref="ShardedBatchRelay{TSignal}"/>). While the broker is down the messages wait in
/// the table; a crash between publish and mark can publish a message again, which the consumer's inbox (by message id)
/// makes harmless.
/// </summary>
public sealed class OrderOutboxRelay(
    OrderShardMap shards, OrderingSchemaInitializer schema, IConnection broker, OrderOutboxSignals signals, TimeProvider clock,
    ResiliencePipelineProvider<string> pipelines)
    : ShardedBatchRelay<OrderOutboxSignal>(shards, signals, pipelines)
{
    // Named after the application, which ServiceDefaults registers as a trace source.
    public static readonly ActivitySource ActivitySource = new("Ordering.Api");

    private readonly Lock _channelLock = new();
    private readonly Dictionary<OrderShard, IChannel> _channels = [];

    protected override string Name => "order-outbox";

    protected override int BatchSize => 200;

    protected override TimeSpan IdlePoll => TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a sent message stays in the outbox, for a person looking into a recent order; the consumer's inbox, not
    /// this table, is what makes a resend harmless, so older rows are deleted and the table stays as small as the
    /// last hour.
    /// </summary>
    public static readonly TimeSpan SentRetention = TimeSpan.FromHours(1);

    private const int PruneWindow = 1_000;
    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<OrderShard, DateTimeOffset> _prunedAt = [];

    protected override Task WhenReadyAsync(CancellationToken cancellationToken) => schema.Ready.WaitAsync(cancellationToken);

    protected override async Task<int> RelayBatchAsync(OrderShard shard, CancellationToken cancellationToken)
    {
        var channel = await ChannelAsync(shard, cancellationToken);
        try
        {
            return await RelayBatchAsync(shard, channel, cancellationToken);
        }
        catch
        {
            // A channel that failed may be closed or hold unconfirmed publishes: the next attempt opens a new one.
            lock (_channelLock)
            {
                _channels.Remove(shard);
            }

            await channel.DisposeAsync();
            throw;
        }
    }

    /// <summary>One channel per shard loop: publisher confirms are tracked per channel, and the loops run concurrently.</summary>
    private async Task<IChannel> ChannelAsync(OrderShard shard, CancellationToken cancellationToken)
    {
        lock (_channelLock)
        {
            if (_channels.TryGetValue(shard, out var open))
            {
                return open;
            }
        }

        var channel = await broker.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        await OrderTopology.DeclareAsync(channel, cancellationToken);
        lock (_channelLock)
        {
            _channels[shard] = channel;
        }

        return channel;
    }

    private async Task<int> RelayBatchAsync(OrderShard shard, IChannel channel, CancellationToken cancellationToken)
    {
        await using var connection = await shard.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await BucketOwnership.HoldAllOwnedAsync(connection, transaction, cancellationToken);
        var batch = await ShardOrders.ClaimPendingOutboxAsync(connection, transaction, BatchSize, cancellationToken);
        if (batch.Count == 0)
        {
            // Nothing to send: now and then, a moment to clear out what was sent long ago, under the same bucket hold.
            var now = clock.GetUtcNow();
            if (now - _prunedAt.GetValueOrDefault(shard) >= PruneInterval)
            {
                await ShardOrders.PruneSentOutboxAsync(connection, transaction, now - SentRetention, PruneWindow, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                _prunedAt[shard] = now;
            }

            return 0;
        }

        // Publish the whole batch, then wait for every confirm: one round trip per batch, not per message. A failure
        // after some were published leaves all unmarked: they are sent again, and the consumer's inbox absorbs that.
        await Task.WhenAll(batch.Select(message => PublishAsync(channel, message, cancellationToken)));
        await ShardOrders.MarkOutboxSentAsync(connection, transaction, [.. batch.Select(m => m.Id)], clock.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return batch.Count;
    }

    private static async Task PublishAsync(IChannel channel, OutboxMessage message, CancellationToken cancellationToken)
    {
        // A producer span, child of the request that wrote the message, whose context travels in the headers.
        ActivityContext.TryParse(message.TraceParent, null, out var parent);
        using var activity = ActivitySource.StartActivity($"{OrderMessaging.Exchange} publish", ActivityKind.Producer, parent);
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation.type", "publish");
        activity?.SetTag("messaging.destination.name", OrderMessaging.Exchange);
        activity?.SetTag("messaging.rabbitmq.destination.routing_key", message.Type);
        activity?.SetTag("messaging.message.id", message.MessageId.ToString());

        var properties = new BasicProperties
        {
            Persistent = true,
            MessageId = message.MessageId.ToString(),
            Type = message.Type,
            ContentType = "application/json",
            Timestamp = new AmqpTimestamp(message.CreatedAt.ToUnixTimeSeconds()),
            Headers = new Dictionary<string, object?>
            {
                [OrderMessaging.TraceParentHeader] = activity?.Id ?? message.TraceParent,
            },
        };
        await channel.BasicPublishAsync(OrderMessaging.Exchange, message.Type, mandatory: false, properties,
            Encoding.UTF8.GetBytes(message.Payload), cancellationToken);
    }
}
