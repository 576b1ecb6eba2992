using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using AspireShop.Ordering.Batching;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Messaging;
using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults.Resilience;
using Ordering.Worker.Mail;
using Polly;
using Polly.Registry;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Ordering.Worker.Orders;

/// <summary>
/// Consumes OrderSubmitted from its durable queue as one of several competing consumers, in batches: whatever has
/// arrived (up to <see cref="MaxBatch"/>) is processed together while the next deliveries queue up, so batches grow
/// with the load and a lone order is not kept waiting. Acknowledged only after the database commits, with one
/// acknowledgement per batch. Malformed messages are rejected to the dead-letter queue, database outages waited out.
/// A batch that fails otherwise is processed again one message at a time, so one poison order cannot hold back the
/// others: it alone is requeued, until the queue's delivery limit dead-letters it. After the commit the catalog's
/// cached stock of the ordered products is invalidated and the mail relay woken for the buyers' mail.
/// </summary>
public sealed class OrderSubmittedConsumer(
    IConnection broker, OrderProcessor processor, OrderShardMap shards, OrderMailSignals mail, CachedStockInvalidator stockCache, OrderingWorkerMetrics metrics,
    TimeProvider clock, ResiliencePipelineProvider<string> pipelines, ILogger<OrderSubmittedConsumer> logger)
    : BackgroundService
{
    public static readonly ActivitySource ActivitySource = new("Ordering.Worker");

    /// <summary>The most messages processed in one batch: enough that round trips stop mattering, few enough that a
    /// batch's catalog transaction holds its product rows for milliseconds.</summary>
    public const int MaxBatch = 100;

    private static readonly TimeSpan BatchLinger = TimeSpan.FromMilliseconds(2);

    // Two batches' worth, so the next batch is already here when one commits.
    private const ushort Prefetch = 2 * MaxBatch;

    private static readonly string ProcessSpanName = $"{OrderTopology.OrderSubmittedQueue} process";

    private readonly ResiliencePipeline _untilStopped = pipelines.GetPipeline(ShopResilience.UntilStopped);
    private readonly ResiliencePipeline _outageRetry = pipelines.GetPipeline(ShopResilience.DatabaseOutage);

    /// <summary>A delivery copied out of the client's buffers, which are reused once the receive handler returns.</summary>
    private sealed record Delivery(ulong Tag, string? MessageId, string? TraceParent, byte[] Body);

    /// <summary>A well-formed delivery with its process span (child of the publisher's trace).</summary>
    private sealed record Message(Delivery Delivery, ReceivedOrder Order, Activity? Span);

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
            new CreateChannelOptions(publisherConfirmationsEnabled: false, publisherConfirmationTrackingEnabled: false), stoppingToken);
        await OrderTopology.DeclareAsync(channel, stoppingToken);
        await channel.BasicQosAsync(0, Prefetch, global: false, stoppingToken);

        // Delivery tags belong to the channel: what was received on it is processed and settled on it, or dropped with
        // it (the broker then delivers it again).
        var deliveries = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        channel.ChannelShutdownAsync += (_, _) =>
        {
            deliveries.Writer.TryComplete();
            return Task.CompletedTask;
        };
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            deliveries.Writer.TryWrite(new Delivery(delivery.DeliveryTag, delivery.BasicProperties.MessageId,
                delivery.BasicProperties.Headers?.TryGetValue(OrderMessaging.TraceParentHeader, out var header) == true && header is byte[] bytes
                    ? Encoding.UTF8.GetString(bytes) : null,
                delivery.Body.ToArray()));
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(OrderTopology.OrderSubmittedQueue, autoAck: false, consumer, stoppingToken);

        var batch = new List<Delivery>(MaxBatch);
        while (await deliveries.Reader.WaitToReadAsync(stoppingToken))
        {
            Take(deliveries.Reader, batch);
            if (batch.Count < MaxBatch)
            {
                // Deliveries come in bursts (the relay publishes its claim together): a moment's wait lets the rest of a
                // burst join the batch rather than make the next one.
                await Task.Delay(BatchLinger, stoppingToken);
                Take(deliveries.Reader, batch);
            }

            await HandleBatchAsync(channel, batch, stoppingToken);
            batch.Clear();
        }

        logger.LogWarning("The broker closed the order consumer's channel; reopening it.");
    }

    private static void Take(ChannelReader<Delivery> deliveries, List<Delivery> batch)
    {
        while (batch.Count < MaxBatch && deliveries.TryRead(out var delivery))
        {
            batch.Add(delivery);
        }
    }

    private async Task HandleBatchAsync(IChannel channel, List<Delivery> batch, CancellationToken cancellationToken)
    {
        var messages = new List<Message>(batch.Count);
        foreach (var delivery in batch)
        {
            if (Guid.TryParse(delivery.MessageId, out var messageId) && TryRead(delivery.Body, out var submitted))
            {
                messages.Add(new Message(delivery, new ReceivedOrder(messageId, submitted), StartProcessSpan(delivery, submitted)));
                continue;
            }

            logger.LogError("Dead-lettering message {MessageId}: it is not a valid {Type}.", delivery.MessageId, OrderMessaging.OrderSubmittedType);
            await channel.BasicRejectAsync(delivery.Tag, requeue: false, cancellationToken);
            metrics.DeadLettered.Add(1);
        }

        if (messages.Count == 0)
        {
            return;
        }

        metrics.BatchSize.Record(messages.Count);
        var outcomes = new ProcessingOutcome?[messages.Count];
        try
        {
            using (BatchSpans.StartWork(ActivitySource, $"{ProcessSpanName} batch", [.. messages.Select(m => m.Span)]))
            {
                await ProcessWaitingOutOutagesAsync(messages, outcomes, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException && messages.Count > 1)
        {
            logger.LogWarning("A batch of {Count} orders failed ({Problem}); processing them one at a time.", messages.Count, e.Message);
            Activity.Current = null;
            await HandleOneAtATimeAsync(channel, messages, outcomes, cancellationToken);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Not an outage: give the message back. The queue dead-letters it once it has failed too often.
            logger.LogError(e, "Processing order {OrderId} failed; returning message {MessageId} to the queue.",
                messages[0].Order.Submitted.OrderId, messages[0].Order.MessageId);
            await channel.BasicNackAsync(messages[0].Delivery.Tag, multiple: false, requeue: true, cancellationToken);
            messages[0].Span?.Dispose();
            return;
        }
        finally
        {
            Activity.Current = null;
        }

        // Every earlier delivery on this channel is settled (batches are handled in turn, rejects went singly), so one
        // acknowledgement covers the batch.
        await channel.BasicAckAsync(messages[^1].Delivery.Tag, multiple: true, cancellationToken);
        await AfterCommitAsync([.. messages.Zip(outcomes, (message, outcome) => (message, outcome!))], cancellationToken);
    }

    /// <summary>After a failed batch: each message alone, acknowledged or requeued on its own. What the batch already committed stays done.</summary>
    private async Task HandleOneAtATimeAsync(IChannel channel, List<Message> messages, ProcessingOutcome?[] outcomes, CancellationToken cancellationToken)
    {
        var done = new List<(Message, ProcessingOutcome)>();
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            var outcome = new[] { outcomes[i] };
            try
            {
                Activity.Current = message.Span;
                await ProcessWaitingOutOutagesAsync([message], outcome, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Processing order {OrderId} failed; returning message {MessageId} to the queue.",
                    message.Order.Submitted.OrderId, message.Order.MessageId);
                await channel.BasicNackAsync(message.Delivery.Tag, multiple: false, requeue: true, cancellationToken);
                message.Span?.Dispose();
                continue;
            }
            finally
            {
                Activity.Current = null;
            }

            await channel.BasicAckAsync(message.Delivery.Tag, multiple: false, cancellationToken);
            done.Add((message, outcome[0]!));
        }

        await AfterCommitAsync(done, cancellationToken);
    }

    /// <summary>
    /// Retries through database outages (restart, failover) and bucket moves while holding the messages
    /// (<see cref="ShopResilience.DatabaseOutage"/>): requeueing them would count as failed deliveries and could
    /// dead-letter perfectly good orders. Each retry processes only what has no outcome yet.
    /// </summary>
    private async Task ProcessWaitingOutOutagesAsync(List<Message> messages, ProcessingOutcome?[] outcomes, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(messages.Count == 1 ? $"order {messages[0].Order.Submitted.OrderId}" : $"{messages.Count} orders", cancellationToken);
        try
        {
            await _outageRetry.ExecuteAsync(async context =>
            {
                await processor.ProcessAsync([.. messages.Select(m => m.Order)], outcomes, context.CancellationToken);
                if (Array.IndexOf(outcomes, null) is var moved and >= 0)
                {
                    // A bucket is moving or has moved: the map names the new shard once the move switches it.
                    await shards.RefreshAsync(context.CancellationToken);
                    var orderId = messages[moved].Order.Submitted.OrderId;
                    throw new BucketMovedException(OrderBuckets.Of(orderId), shards.ForBucket(OrderBuckets.Of(orderId)));
                }
            }, context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task AfterCommitAsync(IReadOnlyList<(Message Message, ProcessingOutcome Outcome)> processed, CancellationToken cancellationToken)
    {
        var stockChanged = new HashSet<int>();
        var listsChanged = false;
        var now = clock.GetUtcNow();
        foreach (var (message, outcome) in processed)
        {
            var submitted = message.Order.Submitted;
            if (outcome.DecidedStatus is { } decided)
            {
                message.Span?.SetTag("shop.order.status", decided.ToString());
                logger.LogDebug("Order {OrderId} of buyer {BuyerId} is {Status}.", submitted.OrderId, submitted.BuyerId, decided);
                var status = new KeyValuePair<string, object?>("status", decided);
                metrics.OrdersDecided.Add(1, status);
                metrics.ProcessingTime.Record((now - submitted.SubmittedAt).TotalSeconds, status);
                mail.For(shards.ForBucket(OrderBuckets.Of(submitted.OrderId))).Notify();
                if (decided == OrderStatus.Confirmed)
                {
                    stockChanged.UnionWith(outcome.ProductIds);
                    listsChanged |= outcome.ListsChanged;
                }
            }

            message.Span?.Dispose();
        }

        // The catalog shows stock: drop the cached copies of the products whose stock just changed, and the cached list
        // pages only when a product entered the low-stock band lists show (every order evicting every list page would
        // empty the list cache under load, for a number the lists do not show).
        if (stockChanged.Count > 0)
        {
            stockCache.Forget(stockChanged, listsChanged);
        }
    }

    private static Activity? StartProcessSpan(Delivery delivery, OrderSubmitted submitted)
    {
        ActivityContext.TryParse(delivery.TraceParent, null, out var parent);
        var span = ActivitySource.StartActivity(ProcessSpanName, ActivityKind.Consumer, parent);
        span?.SetTag("messaging.system", "rabbitmq");
        span?.SetTag("messaging.operation.type", "process");
        span?.SetTag("messaging.destination.name", OrderTopology.OrderSubmittedQueue);
        span?.SetTag("messaging.message.id", delivery.MessageId);
        span?.SetTag("shop.order.id", submitted.OrderId.ToString());
        Activity.Current = null;
        return span;
    }

    private static bool TryRead(byte[] body, out OrderSubmitted submitted)
    {
        try
        {
            submitted = JsonSerializer.Deserialize(body, WorkerJsonContext.Default.OrderSubmitted)!;
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
