using System.Diagnostics;
using System.Text;
using System.Text.Json;
using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Messaging;
using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.Extensions.Caching.Hybrid;
using Ordering.Worker.Mail;
using Polly;
using Polly.Registry;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Ordering.Worker.Orders;

/// <summary>
/// Consumes OrderSubmitted from its durable queue as one of several competing consumers: manual acknowledgement only
/// after the database commit, a bounded prefetch handled concurrently, malformed messages rejected to the dead-letter queue, database
/// outages waited out, other failures requeued until the queue's delivery limit dead-letters them. After the commit
/// it invalidates the catalog's cached stock of the ordered products and wakes the mail relay for the buyer's mail.
/// </summary>
public sealed class OrderSubmittedConsumer(
    IConnection broker, OrderProcessor processor, OrderShardMap shards, OrderMailSignals mail, HybridCache cache, OrderingWorkerMetrics metrics,
    TimeProvider clock, ResiliencePipelineProvider<string> pipelines, ILogger<OrderSubmittedConsumer> logger)
    : BackgroundService
{
    public static readonly ActivitySource ActivitySource = new("Ordering.Worker");
    private const ushort Prefetch = 32;

    // Messages are handled this many at a time per worker: each spends most of its time waiting on the database,
    // and the client's default (one at a time) would leave the worker idle between round trips.
    private const ushort Concurrency = 16;

    private readonly ResiliencePipeline _untilStopped = pipelines.GetPipeline(ShopResilience.UntilStopped);
    private readonly ResiliencePipeline _outageRetry = pipelines.GetPipeline(ShopResilience.DatabaseOutage);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A channel the broker closed is opened again at once; failing to open one is retried with backoff.
        while (!stoppingToken.IsCancellationRequested)
        {
            var context = ResilienceContextPool.Shared.Get("order-submitted consumer", stoppingToken);
            try
            {
                await _untilStopped.ExecuteAsync(async context => await ConsumeUntilClosedAsync(context.CancellationToken), context);
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

    private async Task ConsumeUntilClosedAsync(CancellationToken stoppingToken)
    {
        await using var channel = await broker.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false, consumerDispatchConcurrency: Concurrency),
            stoppingToken);
        await OrderTopology.DeclareAsync(channel, stoppingToken);
        await channel.BasicQosAsync(0, Prefetch, global: false, stoppingToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) => HandleAsync(channel, delivery, stoppingToken);
        await channel.BasicConsumeAsync(OrderTopology.OrderSubmittedQueue, autoAck: false, consumer, stoppingToken);

        var closed = new TaskCompletionSource();
        channel.ChannelShutdownAsync += (_, _) =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        await closed.Task.WaitAsync(stoppingToken);
        logger.LogWarning("The broker closed the order consumer's channel; reopening it.");
    }

    private async Task HandleAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken cancellationToken)
    {
        var traceParent = delivery.BasicProperties.Headers?.TryGetValue(OrderMessaging.TraceParentHeader, out var header) == true
            && header is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null;
        ActivityContext.TryParse(traceParent, null, out var parent);
        using var activity = ActivitySource.StartActivity($"{OrderTopology.OrderSubmittedQueue} process", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.destination.name", OrderTopology.OrderSubmittedQueue);
        activity?.SetTag("messaging.message.id", delivery.BasicProperties.MessageId);

        if (!Guid.TryParse(delivery.BasicProperties.MessageId, out var messageId) || !TryRead(delivery.Body, out var submitted))
        {
            logger.LogError("Dead-lettering message {MessageId}: it is not a valid {Type}.", delivery.BasicProperties.MessageId, OrderMessaging.OrderSubmittedType);
            await channel.BasicRejectAsync(delivery.DeliveryTag, requeue: false, cancellationToken);
            metrics.DeadLettered.Add(1);
            return;
        }

        ProcessingOutcome outcome;
        try
        {
            outcome = await ProcessWaitingOutOutagesAsync(messageId, submitted, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Not an outage: give the message back. The queue dead-letters it once it has failed too often.
            logger.LogError(e, "Processing order {OrderId} failed; returning message {MessageId} to the queue.", submitted.OrderId, messageId);
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, cancellationToken);
            return;
        }

        await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
        if (outcome.DecidedStatus is null)
        {
            return;
        }

        logger.LogInformation("Order {OrderId} of buyer {BuyerId} is {Status}.", submitted.OrderId, submitted.BuyerId, outcome.DecidedStatus);
        var status = new KeyValuePair<string, object?>("status", outcome.DecidedStatus);
        metrics.OrdersDecided.Add(1, status);
        metrics.ProcessingTime.Record((clock.GetUtcNow() - submitted.SubmittedAt).TotalSeconds, status);
        await AfterCommitAsync(submitted.OrderId, outcome, cancellationToken);
    }

    /// <summary>
    /// Retries through database outages (restart, failover) and bucket moves while holding the message
    /// (<see cref="ShopResilience.DatabaseOutage"/>): requeueing it would count as a failed delivery and could
    /// dead-letter a perfectly good order.
    /// </summary>
    private async Task<ProcessingOutcome> ProcessWaitingOutOutagesAsync(Guid messageId, OrderSubmitted submitted, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get($"order {submitted.OrderId}", cancellationToken);
        try
        {
            return await _outageRetry.ExecuteAsync(async context =>
            {
                try
                {
                    return await processor.ProcessAsync(messageId, submitted, context.CancellationToken);
                }
                catch (BucketMovedException)
                {
                    // The order's bucket is moving or has moved: the map names the new shard once the move switches it.
                    await shards.RefreshAsync(context.CancellationToken);
                    throw;
                }
            }, context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task AfterCommitAsync(Guid orderId, ProcessingOutcome outcome, CancellationToken cancellationToken)
    {
        // The catalog shows stock: drop the cached copies of the products whose stock just changed, and the cached list
        // pages only when a product entered the low-stock band lists show (every order evicting every list page would
        // empty the list cache under load, for a number the lists do not show).
        if (outcome.DecidedStatus == OrderStatus.Confirmed)
        {
            IEnumerable<string> tags = [.. outcome.ProductIds.Select(CatalogCacheTags.Product), .. outcome.ListsChanged ? [CatalogCacheTags.ProductLists] : Array.Empty<string>()];
            try
            {
                await cache.RemoveByTagAsync(tags, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Could not invalidate cached stock ({Problem}); it expires on its own.", e.Message);
            }
        }

        mail.For(shards.ForBucket(OrderBuckets.Of(orderId))).Notify();
    }

    private static bool TryRead(ReadOnlyMemory<byte> body, out OrderSubmitted submitted)
    {
        try
        {
            submitted = JsonSerializer.Deserialize(body.Span, WorkerJsonContext.Default.OrderSubmitted)!;
            return submitted is { Lines.Count: > 0 } && submitted.OrderId != Guid.Empty
                && submitted.Lines.All(l => l.ProductId > 0 && l.Quantity > 0);
        }
        catch (JsonException)
        {
            submitted = null!;
            return false;
        }
    }
}
