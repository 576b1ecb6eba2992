using System.Diagnostics;
using System.Text;
using AspireShop.Contracts;
using AspireShop.Contracts.Sharding;
using Catalog.Api.Catalog.Data;
using Catalog.Api.Ordering.Data;
using Catalog.Api.Ordering.Sharding;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using RabbitMQ.Client;

namespace Catalog.Api.Ordering;

/// <summary>Wakes a shard's relay as soon as an order commits there.</summary>
public sealed class OrderOutboxSignal : WakeUpSignal;

/// <summary>One wake-up signal per order shard.</summary>
public sealed class OrderOutboxSignals(OrderShardMap map) : PerShardSignals<OrderOutboxSignal>(map);

/// <summary>
/// Publishes the order outbox of every shard to RabbitMQ (one loop per shard): persistent messages, publisher confirms, and a message is marked sent only
/// after the broker confirmed it. Each batch is claimed with <c>FOR UPDATE SKIP LOCKED</c>, so the relays of several
/// API replicas share the work without sending a message twice at once. While the broker is down the messages wait
/// in the table and the relay retries with backoff; a crash between publish and mark can publish a message again,
/// which the consumer's inbox (by message id) makes harmless. A shard relays only the messages of buckets it owns.
/// </summary>
public sealed class OrderOutboxRelay(
    OrderShardContexts shards, CatalogDatabaseInitializer schema, IConnection broker, OrderOutboxSignals signals, TimeProvider clock,
    ILogger<OrderOutboxRelay> logger)
    : BackgroundService
{
    // Named after the application, which ServiceDefaults registers as a trace source.
    public static readonly ActivitySource ActivitySource = new("Catalog.Api");

    private const int BatchSize = 200;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await schema.Ready.WaitAsync(stoppingToken);
        await Task.WhenAll(shards.Map.Shards.Select(shard => RelayShardAsync(shard, stoppingToken)));
    }

    private async Task RelayShardAsync(OrderShard shard, CancellationToken stoppingToken)
    {
        var signal = signals.For(shard);
        IChannel? channel = null;
        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                channel ??= await OpenChannelAsync(stoppingToken);
                var relayed = await RelayBatchAsync(shard, channel, stoppingToken);
                backoff = TimeSpan.Zero;
                if (relayed < BatchSize)
                {
                    await signal.WaitAsync(IdlePoll, stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                logger.LogWarning("Relaying the order outbox of {Shard} failed ({Problem}); retrying in {Backoff}.", shard.Name, e.Message, backoff);
                if (channel is not null)
                {
                    await channel.DisposeAsync();
                    channel = null;
                }

                await Task.Delay(backoff, stoppingToken);
            }
        }
    }

    private async Task<IChannel> OpenChannelAsync(CancellationToken cancellationToken)
    {
        var channel = await broker.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        await OrderTopology.DeclareAsync(channel, cancellationToken);
        return channel;
    }

    private async Task<int> RelayBatchAsync(OrderShard shard, IChannel channel, CancellationToken cancellationToken)
    {
        await using var db = shards.Create(shard);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The owned buckets are held too, so none can move while its messages are being sent.
        await BucketOwnership.HoldAllOwnedAsync(
            (NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)transaction.GetDbTransaction(), cancellationToken);
        var batch = await db.Outbox
            .FromSql($"""
                SELECT o.* FROM ordering.outbox o JOIN ordering.owned_buckets b ON b."Bucket" = o."Bucket"
                WHERE o."SentAt" IS NULL ORDER BY o."Id" LIMIT {BatchSize}
                FOR UPDATE OF o SKIP LOCKED
                """)
            .ToListAsync(cancellationToken);
        if (batch.Count == 0)
        {
            return 0;
        }

        // Publish the whole batch, then wait for every confirm: one round trip per batch, not per message. A failure
        // after some were published leaves all unmarked: they are sent again, and the consumer's inbox absorbs that.
        await Task.WhenAll(batch.Select(message => PublishAsync(channel, message, cancellationToken)));

        var sentAt = clock.GetUtcNow();
        foreach (var message in batch)
        {
            message.SentAt = sentAt;
            message.Attempts++;
        }

        await db.SaveChangesAsync(cancellationToken);
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
