using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using AspireShop.Ordering.Batching;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.AspNetCore.Http.HttpResults;
using Ordering.Api.Operations;

namespace Ordering.Api.Orders;

/// <summary>What a submission came to: the answer for the buyer, and whether it stored a new order.</summary>
public sealed record Submission(Results<Accepted<OrderDto>, ValidationProblem, ProblemHttpResult> Result, bool IsNew);

/// <summary>
/// Writes submitted orders to their shards in batches: each shard has one writer that takes every request waiting for
/// it (up to <see cref="MaxBatch"/>), reads their prices from the catalog in one query, and stores them all in one
/// shard transaction of a few round trips. Each request is answered only after the commit that holds its order, so a
/// 202 still means stored; concurrent requests share a commit instead of queueing for one each (group commit). A batch
/// that fails for a reason other than an outage is written again one request at a time, so one bad request cannot fail
/// the others.
/// <para>
/// Written here rather than with EF Core: the batch is three set-based statements (<see cref="ShardOrders"/>), where EF
/// would track every entity and wrap each save in a savepoint.
/// </para>
/// </summary>
public sealed class OrderIntakeWriter(
    OrderShardContexts shards, CatalogStock catalog, OrderOutboxSignals outbox, OrderingApiMetrics metrics, TimeProvider clock,
    ILogger<OrderIntakeWriter> logger) : BackgroundService
{
    public const int MaxBatch = 64;

    private static readonly ActivitySource ActivitySource = new("Ordering.Api");

    private readonly Channel<Pending>[] _queues = [.. shards.Map.Shards.Select(_ => Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true }))];

    /// <summary>A request waiting for its shard's writer, with the span of the HTTP request it came in.</summary>
    private sealed record Pending(string BuyerId, string IdempotencyKey, SubmitOrderRequest Order, Activity? Span)
    {
        public int Bucket { get; } = OrderBuckets.Of(BuyerId);

        public TaskCompletionSource<Submission?> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public (string, string) Key => (BuyerId, IdempotencyKey);
    }

    /// <summary>
    /// Stores the order (or finds the one the key already made) on the buyer's shard and answers once it is committed;
    /// moves and outages are waited out briefly, then <see cref="OrderShardUnavailableException"/>.
    /// </summary>
    public Task<Submission> SubmitAsync(string buyerId, string idempotencyKey, SubmitOrderRequest order, CancellationToken cancellationToken)
        => shards.OnOwningShardAsync(OrderBuckets.Of(buyerId), async (shard, cancellationToken) =>
        {
            var pending = new Pending(buyerId, idempotencyKey, order, Activity.Current);
            _queues[shard.Number - 1].Writer.TryWrite(pending);
            return await pending.Answer.Task.WaitAsync(cancellationToken) ?? throw new BucketMovedException(pending.Bucket, shard);
        }, cancellationToken);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(shards.Map.Shards.Select(shard => WriteUntilStoppedAsync(shard, _queues[shard.Number - 1].Reader, stoppingToken)));

    private async Task WriteUntilStoppedAsync(OrderShard shard, ChannelReader<Pending> queue, CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        try
        {
            while (await queue.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && queue.TryRead(out var pending))
                {
                    batch.Add(pending);
                }

                await WriteBatchAsync(shard, batch, stoppingToken);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            foreach (var pending in batch)
            {
                pending.Answer.TrySetCanceled(stoppingToken);
            }
        }
    }

    private async Task WriteBatchAsync(OrderShard shard, List<Pending> batch, CancellationToken cancellationToken)
    {
        try
        {
            await WriteAsync(shard, batch, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException && batch.Count > 1 && !ShopResilience.IsDatabaseOutage(e))
        {
            logger.LogWarning("A batch of {Count} orders for {Shard} failed ({Problem}); writing them one at a time.", batch.Count, shard.Name, e.Message);
            foreach (var pending in batch)
            {
                await WriteBatchAsync(shard, [pending], cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // An outage (each request's caller waits it out and comes back), or a lone request that cannot be stored.
            foreach (var pending in batch)
            {
                pending.Answer.TrySetException(e);
            }
        }
    }

    private async Task WriteAsync(OrderShard shard, List<Pending> batch, CancellationToken cancellationToken)
    {
        using var work = BatchSpans.StartWork(ActivitySource, "order intake batch", [.. batch.Select(p => p.Span)]);
        try
        {
            // Prices and names come from the catalog as the primary has them now, never from the client; read once for
            // the batch, before the shard transaction, so that is not held open across a second database.
            var prices = await catalog.PricesAsync([.. batch.SelectMany(p => p.Order.Lines).Select(l => l.ProductId).Distinct()], cancellationToken);

            // The same key twice in a batch (a double click): the first is written, the others get its answer.
            var requests = batch.DistinctBy(p => p.Key).ToList();
            await using var connection = await shard.DataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var (owned, existing) = await ShardOrders.HoldForIntakeAsync(
                connection, transaction, [.. requests.Select(p => p.Bucket).Distinct()], [.. requests.Select(p => p.Key)], cancellationToken);

            var answers = new Dictionary<(string, string), Submission?>();
            // The order each key stands for, to tell a resend of it from another order under a reused key.
            var byKey = new Dictionary<(string, string), Order>();
            var toInsert = new List<(Pending Request, Order Order, OutboxMessage Message)>();
            var now = clock.GetUtcNow();
            foreach (var request in requests)
            {
                if (!owned.Contains(request.Bucket))
                {
                    answers[request.Key] = null;
                }
                else if (!existing.Contains(request.Key))
                {
                    if (Refusal(request.Order, prices) is { } refusal)
                    {
                        answers[request.Key] = new Submission(refusal, IsNew: false);
                    }
                    else
                    {
                        var (order, message) = NewOrder(request, prices, now);
                        toInsert.Add((request, order, message));
                    }
                }
            }

            var inserted = toInsert.Count > 0
                ? await ShardOrders.InsertOrdersAsync(connection, transaction, [.. toInsert.Select(i => (i.Order, i.Message))], cancellationToken)
                : [];
            foreach (var (request, order, _) in toInsert.Where(i => inserted.Contains(i.Order.Id)))
            {
                answers[request.Key] = new Submission(OrdersApi.Accepted(order), IsNew: true);
                byKey[request.Key] = order;
            }

            // The key's earlier order: found before, or committed by a concurrent request since (the insert skipped it).
            var earlier = requests.Where(r => !answers.ContainsKey(r.Key)).Select(r => r.Key).ToList();
            if (earlier.Count > 0)
            {
                foreach (var order in await ShardOrders.OrdersByKeyAsync(connection, transaction, earlier, cancellationToken))
                {
                    answers[(order.BuyerId, order.IdempotencyKey)] = new Submission(OrdersApi.Accepted(order), IsNew: false);
                    byKey[(order.BuyerId, order.IdempotencyKey)] = order;
                }
            }

            await transaction.CommitAsync(cancellationToken);
            if (inserted.Count > 0)
            {
                outbox.For(shard).Notify();
                metrics.OrdersSubmitted.Add(inserted.Count, new KeyValuePair<string, object?>("shard", shard.Name));
            }

            foreach (var pending in batch)
            {
                pending.Answer.TrySetResult(byKey.TryGetValue(pending.Key, out var order) && !IsSameOrder(pending.Order, order)
                    ? new Submission(KeyReused(pending.IdempotencyKey, order.Id), IsNew: false)
                    : answers[pending.Key]);
            }
        }
        finally
        {
            Activity.Current = null;
        }
    }

    /// <summary>Whether a request is the one that made the order: the same lines, buyer details and address, as stored.</summary>
    private static bool IsSameOrder(SubmitOrderRequest request, Order order)
        => request.BuyerName.Trim() == order.BuyerName && request.Email.Trim() == order.Email
            && request.ShippingAddress.Street.Trim() == order.ShippingAddress.Street && request.ShippingAddress.City.Trim() == order.ShippingAddress.City
            && request.ShippingAddress.PostalCode.Trim() == order.ShippingAddress.PostalCode
            && request.ShippingAddress.Country.Trim() == order.ShippingAddress.Country
            && request.Lines.OrderBy(l => l.ProductId).Select(l => (l.ProductId, l.Quantity))
                .SequenceEqual(order.Lines.OrderBy(l => l.ProductId).Select(l => (l.ProductId, l.Quantity)));

    /// <summary>
    /// An idempotency key that made one order, sent with another: answered 422, as payment APIs answer it, rather than
    /// with the first order, which would tell the client its new order was placed.
    /// </summary>
    private static ProblemHttpResult KeyReused(string key, Guid orderId)
        => TypedResults.Problem(
            statusCode: StatusCodes.Status422UnprocessableEntity,
            type: OrderProblemTypes.IdempotencyKeyReused,
            title: "Idempotency key already used",
            detail: $"The key {key} was used for another order ({orderId}); send a new key for a new order, or the same body to find that one.",
            extensions: new Dictionary<string, object?> { ["orderId"] = orderId });

    /// <summary>The largest total an order can hold (its column is numeric(12,2)).</summary>
    public const decimal MaxTotal = 9_999_999_999.99m;

    private static Results<Accepted<OrderDto>, ValidationProblem, ProblemHttpResult>? Refusal(SubmitOrderRequest order, Dictionary<int, ProductPrice> prices)
    {
        if (order.Lines.GroupBy(l => l.ProductId).Any(g => g.Count() > 1))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["lines"] = ["Name each product once, with the quantity you want."],
            });
        }

        var unknown = order.Lines.Select(l => l.ProductId).Where(id => !prices.ContainsKey(id)).ToList();
        if (unknown.Count == 0)
        {
            if (order.Lines.Sum(l => prices[l.ProductId].Price * l.Quantity) <= MaxTotal)
            {
                return null;
            }

            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["lines"] = [string.Create(CultureInfo.InvariantCulture, $"The order's total would be over {MaxTotal:N2}; split it into smaller orders.")],
            });
        }

        return TypedResults.Problem(
            statusCode: StatusCodes.Status422UnprocessableEntity,
            title: "Unknown products",
            detail: $"The catalog has no product {string.Join(", ", unknown)}.",
            extensions: new Dictionary<string, object?> { ["unknownProductIds"] = unknown });
    }

    private static (Order, OutboxMessage) NewOrder(Pending request, Dictionary<int, ProductPrice> prices, DateTimeOffset now)
    {
        var submitted = request.Order;
        var order = new Order
        {
            Id = OrderBuckets.NewOrderId(request.Bucket, now),
            BuyerId = request.BuyerId,
            Bucket = request.Bucket,
            IdempotencyKey = request.IdempotencyKey,
            BuyerName = submitted.BuyerName.Trim(),
            Email = submitted.Email.Trim(),
            ShippingAddress = new ShippingAddress
            {
                Street = submitted.ShippingAddress.Street.Trim(),
                City = submitted.ShippingAddress.City.Trim(),
                PostalCode = submitted.ShippingAddress.PostalCode.Trim(),
                Country = submitted.ShippingAddress.Country.Trim(),
            },
            Status = OrderStatus.Submitted,
            SubmittedAt = now,
            Lines = [.. submitted.Lines.Select(l => new OrderLine
            {
                ProductId = l.ProductId,
                ProductName = prices[l.ProductId].Name,
                UnitPrice = prices[l.ProductId].Price,
                Quantity = l.Quantity,
            })],
        };
        order.Total = order.Lines.Sum(l => l.UnitPrice * l.Quantity);
        var message = new OutboxMessage
        {
            MessageId = Guid.CreateVersion7(now),
            Bucket = request.Bucket,
            Type = OrderMessaging.OrderSubmittedType,
            Payload = JsonSerializer.Serialize(
                new OrderSubmitted(order.Id, request.BuyerId, [.. order.Lines.Select(l => new OrderSubmittedLine(l.ProductId, l.Quantity))], now),
                OrderingJsonContext.Default.OrderSubmitted),
            TraceParent = request.Span?.Id,
            CreatedAt = now,
        };
        return (order, message);
    }
}
