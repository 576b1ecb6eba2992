using System.Text.Json;
using System.Text.Json.Serialization;
using AspireShop.Contracts;
using AspireShop.Ordering.Catalog;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;

namespace Ordering.Worker.Orders;

/// <summary>
/// What one message did: decided its order now (Confirmed or Rejected, with the products touched, and whether that
/// changed how lists show them), or nothing new.
/// </summary>
public sealed record ProcessingOutcome(OrderStatus? DecidedStatus, string? Reason, IReadOnlyList<int> ProductIds, bool ListsChanged)
{
    public static readonly ProcessingOutcome NothingNew = new(null, null, [], false);
}

/// <summary>
/// Processes one OrderSubmitted message. The order lives on its shard, the stock in the catalog database, so the
/// decision takes three short steps, made safe by the stock reservation ledger:
/// <list type="number">
/// <item>on the shard, one read: the bucket still owned there, the message not yet in the inbox, the order still
/// Submitted (so stock is never reserved for an order that is not there);</item>
/// <item>in the catalog: the order's ledger row, then every line's stock or none, committed together
/// (<see cref="CatalogProducts.ReserveOnceAsync"/>); a retried order reads the earlier decision back;</item>
/// <item>on the shard again: the bucket held (shared, so it cannot move meanwhile), then in one statement the message
/// into the inbox (a concurrent delivery stops there) and the order Confirmed or Rejected if still Submitted,
/// committed. The decided order, with no MailSentAt yet, is the buyer's mail owed.</item>
/// </list>
/// The shard is not held while the catalog transaction waits on product rows, so a bucket move's freeze never waits
/// on the catalog.
/// </summary>
public sealed class OrderProcessor(OrderShardMap shards, CatalogProducts catalog, TimeProvider clock)
{
    public async Task<ProcessingOutcome> ProcessAsync(Guid messageId, OrderSubmitted submitted, CancellationToken cancellationToken)
    {
        var bucket = OrderBuckets.Of(submitted.OrderId);
        var shard = shards.ForBucket(bucket);
        await using var connection = await shard.DataSource.OpenConnectionAsync(cancellationToken);
        var (owned, undecided) = await ShardOrders.IsUndecidedAsync(connection, bucket, messageId, submitted.OrderId, cancellationToken);
        if (!owned)
        {
            throw new BucketMovedException(bucket, shard);
        }

        if (!undecided)
        {
            return ProcessingOutcome.NothingNew;
        }

        var stock = await catalog.ReserveOnceAsync(submitted.OrderId, [.. submitted.Lines.Select(l => (l.ProductId, l.Quantity))], cancellationToken);
        var status = stock.RejectionReason is null ? OrderStatus.Confirmed : OrderStatus.Rejected;

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!await BucketOwnership.HoldAsync(connection, transaction, bucket, cancellationToken))
        {
            throw new BucketMovedException(bucket, shard);
        }

        // Not decided now when the message was processed before, or when the order is not Submitted any more (decided
        // meanwhile by a message with another id, which took the same decision from the ledger).
        var decided = await ShardOrders.ProcessOnceAsync(
            connection, transaction, messageId, bucket, submitted.OrderId, status, stock.RejectionReason, clock.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return decided
            ? new ProcessingOutcome(status, stock.RejectionReason, [.. submitted.Lines.Select(l => l.ProductId)], stock.ListsChanged)
            : ProcessingOutcome.NothingNew;
    }
}

[JsonSerializable(typeof(OrderSubmitted))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
public sealed partial class WorkerJsonContext : JsonSerializerContext;
