using System.Diagnostics;
using System.Text;
using AspireShop.Contracts;
using Catalog.Api.Ordering.Data;
using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;

namespace Catalog.Api.Ordering;

/// <summary>Wakes the relay as soon as an order commits.</summary>
public sealed class OrderOutboxSignal : WakeUpSignal;

/// <summary>
/// Publishes the order outbox to RabbitMQ: persistent messages, publisher confirms, and a message is marked sent only
/// after the broker confirmed it. Each batch is claimed with <c>FOR UPDATE SKIP LOCKED</c>, so the relays of several
/// API replicas share the work without sending a message twice at once. While the broker is down the messages wait
/// in the table and the relay retries with backoff; a crash between publish and mark can publish a message again,
/// which the consumer's inbox (by message id) makes harmless.
/// </summary>
public sealed class OrderOutboxRelay(
    IServiceScopeFactory scopes, IConnection broker, OrderOutboxSignal signal, TimeProvider clock, ILogger<OrderOutboxRelay> logger)
    : BackgroundService
{
    // Named after the application, which ServiceDefaults registers as a trace source.
    public static readonly ActivitySource ActivitySource = new("Catalog.Api");

    private const int BatchSize = 200;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IChannel? channel = null;
        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                channel ??= await OpenChannelAsync(stoppingToken);
                var relayed = await RelayBatchAsync(channel, stoppingToken);
                backoff = TimeSpan.Zero;
                if (relayed < BatchSize)
                {
                    await signal.WaitAsync(IdlePoll, stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                logger.LogWarning("Relaying the order outbox failed ({Problem}); retrying in {Backoff}.", e.Message, backoff);
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

    private async Task<int> RelayBatchAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<OrderingDbContext>();

        // The database connection retries transient failures, so the claim-publish-mark unit runs through its
        // execution strategy; a retried unit may publish a message again, which the consumer's inbox absorbs.
        return await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var batch = await db.Outbox
                .FromSql($"SELECT * FROM ordering.outbox WHERE \"SentAt\" IS NULL ORDER BY \"Id\" LIMIT {BatchSize} FOR UPDATE SKIP LOCKED")
                .ToListAsync(ct);
            if (batch.Count == 0)
            {
                return 0;
            }

            // Publish the whole batch, then wait for every confirm: one round trip per batch, not per message.
            await Task.WhenAll(batch.Select(message => PublishAsync(channel, message, ct)));

            var sentAt = clock.GetUtcNow();
            foreach (var message in batch)
            {
                message.SentAt = sentAt;
                message.Attempts++;
            }

            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return batch.Count;
        }, cancellationToken);
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
