using System.Text.Json;
using System.Text.Json.Serialization;
using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;

namespace Ordering.Worker.Orders;

/// <summary>An OrderSubmitted message as received: its message id and what it says.</summary>
public sealed record ReceivedOrder(Guid MessageId, OrderSubmitted Submitted);

/// <summary>
/// What one message did: decided its order now (Confirmed or Rejected, with the products touched, and whether that
/// changed how lists show them), or nothing new.
/// </summary>
public sealed record ProcessingOutcome(OrderStatus? DecidedStatus, string? Reason, IReadOnlyList<int> ProductIds, bool ListsChanged)
{
    public static readonly ProcessingOutcome NothingNew = new(null, null, [], false);
}

/// <summary>
/// Processes OrderSubmitted messages, many at a time: the round trips are per batch and per shard, not per order,
/// while each order keeps its own guarantees. The orders live on their shards, the stock in the catalog database, so
/// a batch takes three steps, made safe by the stock reservation ledger:
/// <list type="number">
/// <item>on each shard, one read: which messages' buckets are still owned there, which messages are not yet in the
/// inbox with their order still Submitted (so stock is never reserved for an order that is not there);</item>
/// <item>in the catalog, one transaction for the whole batch: every undecided order's ledger row, then every line's
/// stock or none per order (<see cref="CatalogStock.ReserveOnceAsync"/>); a retried order reads the earlier
/// decision back;</item>
/// <item>on each shard again, one transaction: the buckets held (shared, so they cannot move meanwhile), then in one
/// statement the messages into the inbox (a concurrent delivery stops there) and the orders Confirmed or Rejected if
/// still Submitted, each with a <see cref="MailOwed"/> row: the buyer's mail owed.</item>
/// </list>
/// A shard is not held while the catalog transaction waits on product rows, so a bucket move's freeze never waits
/// on the catalog.
/// </summary>
public sealed class OrderProcessor(OrderShardMap shards, CatalogStock catalog, TimeProvider clock)
{
    /// <summary>
    /// Processes the messages, filling <paramref name="outcomes"/> (one per message, in the same order) as each shard
    /// commits, so a caller whose call failed half-way knows what is done. A message left without an outcome had its
    /// bucket on another shard than the map said (moved): refresh the map and process it again.
    /// </summary>
    public async Task ProcessAsync(IReadOnlyList<ReceivedOrder> messages, ProcessingOutcome?[] outcomes, CancellationToken cancellationToken)
    {
        var refs = messages.Select(m => new OrderMessageRef(m.MessageId, OrderBuckets.Of(m.Submitted.OrderId), m.Submitted.OrderId)).ToArray();
        var byShard = Enumerable.Range(0, messages.Count).Where(i => outcomes[i] is null)
            .GroupBy(i => shards.ForBucket(refs[i].Bucket)).ToList();

        var undecided = new List<int>[byShard.Count];
        await Task.WhenAll(byShard.Select(async (group, g) =>
        {
            await using var connection = await group.Key.DataSource.OpenConnectionAsync(cancellationToken);
            var indexes = group.ToList();
            var answers = await ShardOrders.AreUndecidedAsync(connection, [.. indexes.Select(i => refs[i])], cancellationToken);
            undecided[g] = [];
            for (var k = 0; k < indexes.Count; k++)
            {
                if (answers[k] is { Owned: true, Undecided: false })
                {
                    outcomes[indexes[k]] = ProcessingOutcome.NothingNew;
                }
                else if (answers[k].Owned)
                {
                    undecided[g].Add(indexes[k]);
                }
            }
        }));
        if (undecided.All(u => u.Count == 0))
        {
            return;
        }

        var stock = await catalog.ReserveOnceAsync(
            [.. undecided.SelectMany(u => u).Select(i => new OrderLines(refs[i].OrderId, [.. messages[i].Submitted.Lines.Select(l => (l.ProductId, l.Quantity))]))],
            cancellationToken);

        await Task.WhenAll(byShard.Select(async (group, g) =>
        {
            if (undecided[g].Count == 0)
            {
                return;
            }

            var decisions = undecided[g].Select(i => stock[refs[i].OrderId] is var d && d.RejectionReason is null
                ? new OrderDecision(refs[i], OrderStatus.Confirmed, null)
                : new OrderDecision(refs[i], OrderStatus.Rejected, d.RejectionReason)).ToList();
            await using var connection = await group.Key.DataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var (recorded, decided) = await ShardOrders.ProcessManyOnceAsync(connection, transaction, decisions, clock.GetUtcNow(), cancellationToken);
            await transaction.CommitAsync(cancellationToken);

            // Not decided now when the message was processed before, or when the order is not Submitted any more
            // (decided meanwhile by a message with another id, which took the same decision from the ledger). Two
            // messages of one order in the batch: the first one recorded reports the decision.
            foreach (var (i, decision) in undecided[g].Zip(decisions))
            {
                if (recorded.Contains(refs[i].MessageId))
                {
                    outcomes[i] = decided.Remove(refs[i].OrderId)
                        ? new ProcessingOutcome(decision.Status, decision.Reason, [.. messages[i].Submitted.Lines.Select(l => l.ProductId)],
                            stock[refs[i].OrderId].ListsChanged)
                        : ProcessingOutcome.NothingNew;
                }
            }
        }));
    }
}

[JsonSerializable(typeof(OrderSubmitted))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
public sealed partial class WorkerJsonContext : JsonSerializerContext;
