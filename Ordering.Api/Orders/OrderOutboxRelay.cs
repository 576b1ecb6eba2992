using System.Diagnostics;
using System.Text;
using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Distribution;
using AspireShop.Ordering.Messaging;
using AspireShop.Ordering.Relaying;
using Npgsql;
using Ordering.Api.Schema;
using Polly.Registry;
using RabbitMQ.Client;

namespace Ordering.Api.Orders;

/// <summary>Wakes the relay as soon as an order commits.</summary>
public sealed class OrderOutboxSignal : WakeUpSignal;

/// <summary>
/// Publishes the order outbox to RabbitMQ: persistent messages, publisher confirms, and a message is marked sent only
/// after the broker confirmed it. One API replica's relay works at a time, the others stand by (see
/// <see cref="SingleActiveRelay{TSignal}"/>). While the broker is down the messages wait in the table; a crash between
/// publish and mark, or a relay taking over from one whose session broke mid-batch, can publish a message again, which
/// the consumer's inbox (by message id) makes harmless.
/// </summary>
public sealed class OrderOutboxRelay(
    OrdersDatabase orders, OrderingSchemaInitializer schema, IConnection broker, OrderOutboxSignal signal, TimeProvider clock,
    ResiliencePipelineProvider<string> pipelines)
    : SingleActiveRelay<OrderOutboxSignal>(orders, signal, pipelines)
{
    // Named after the application, which ServiceDefaults registers as a trace source.
    public static readonly ActivitySource ActivitySource = new("Ordering.Api");

    private IChannel? _channel;

    protected override string Name => "order-outbox";

    protected override long LeaseLock => 7261737;

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
    private DateTimeOffset _prunedAt;

    protected override Task WhenReadyAsync(CancellationToken cancellationToken) => schema.Ready.WaitAsync(cancellationToken);

    protected override async Task<int> RelayBatchAsync(NpgsqlConnection session, CancellationToken cancellationToken)
    {
        // A channel that failed may be closed or hold unconfirmed publishes: the next attempt opens a new one.
        // Publisher confirms are tracked per channel, and only this loop publishes on it.
        _channel ??= await OpenChannelAsync(cancellationToken);
        try
        {
            return await RelayBatchAsync(session, _channel, cancellationToken);
        }
        catch
        {
            await _channel.DisposeAsync();
            _channel = null;
            throw;
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

    private async Task<int> RelayBatchAsync(NpgsqlConnection session, IChannel channel, CancellationToken cancellationToken)
    {
        await using var transaction = await session.BeginTransactionAsync(cancellationToken);
        var batch = await OrderStatements.PendingOutboxAsync(session, transaction, BatchSize, cancellationToken);
        if (batch.Count == 0)
        {
            // Nothing to send: now and then, a moment to clear out what was sent long ago.
            var now = clock.GetUtcNow();
            if (now - _prunedAt >= PruneInterval)
            {
                await OrderStatements.PruneSentOutboxAsync(session, transaction, now - SentRetention, PruneWindow, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                _prunedAt = now;
            }

            return 0;
        }

        // Publish the whole batch, then wait for every confirm: one round trip per batch, not per message. A failure
        // after some were published leaves all unmarked: they are sent again, and the consumer's inbox absorbs that.
        await Task.WhenAll(batch.Select(message => PublishAsync(channel, message, cancellationToken)));
        await OrderStatements.MarkOutboxSentAsync(session, transaction, batch, clock.GetUtcNow(), cancellationToken);
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
