using System.Text.Json;
using System.Text.Json.Serialization;
using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Distribution;

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
/// Processes OrderSubmitted messages, many at a time: the round trips are per batch, not per order, while each order
/// keeps its own guarantees. The orders are in the orders database, the stock in the catalog database, so a batch
/// takes three steps, made safe by the stock reservation ledger:
/// <list type="number">
/// <item>one read: which messages are not yet in the inbox with their order still Submitted (so stock is never
/// reserved for an order that is not there);</item>
/// <item>in the catalog, one transaction for the whole batch: every undecided order's ledger row, then every line's
/// stock or none per order (<see cref="CatalogStock.ReserveOnceAsync"/>); a retried order reads the earlier
/// decision back;</item>
/// <item>in the orders database again, one transaction: in one statement the messages into the inbox (a concurrent
/// delivery stops there) and the orders Confirmed or Rejected if still Submitted, each with a <see cref="MailOwed"/>
/// row: the buyer's mail owed. Each order's rows are on its buyer's shard; the batch commits on every worker it
/// touched, or on none.</item>
/// </list>
/// The orders are not held while the catalog transaction waits on product rows.
/// </summary>
public sealed class OrderProcessor(OrdersDatabase orders, CatalogStock catalog, TimeProvider clock)
{
    /// <summary>Processes the messages and returns one outcome per message, in the same order.</summary>
    public async Task<ProcessingOutcome[]> ProcessAsync(IReadOnlyList<ReceivedOrder> messages, CancellationToken cancellationToken)
    {
        var refs = messages.Select(m => new OrderMessageRef(m.MessageId, m.Submitted.BuyerId, m.Submitted.OrderId)).ToArray();
        var outcomes = Enumerable.Repeat(ProcessingOutcome.NothingNew, messages.Count).ToArray();
        List<int> undecided;
        await using (var connection = await orders.DataSource.OpenConnectionAsync(cancellationToken))
        {
            var answers = await OrderStatements.AreUndecidedAsync(connection, refs, cancellationToken);
            undecided = [.. Enumerable.Range(0, messages.Count).Where(i => answers[i])];
        }

        if (undecided.Count == 0)
        {
            return outcomes;
        }

        var stock = await catalog.ReserveOnceAsync(
            [.. undecided.Select(i => new OrderLines(refs[i].OrderId, [.. messages[i].Submitted.Lines.Select(l => (l.ProductId, l.Quantity))]))],
            cancellationToken);

        var decisions = undecided.Select(i => stock[refs[i].OrderId] is var d && d.RejectionReason is null
            ? new OrderDecision(refs[i], OrderStatus.Confirmed, null)
            : new OrderDecision(refs[i], OrderStatus.Rejected, d.RejectionReason)).ToList();
        HashSet<Guid> decided;
        await using (var connection = await orders.DataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            decided = await OrderStatements.ProcessManyOnceAsync(connection, transaction, decisions, clock.GetUtcNow(), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        // Not decided now when the message was processed before, or when the order is not Submitted any more
        // (decided meanwhile by a message with another id, which took the same decision from the ledger). Two
        // messages of one order in the batch: the first one reports the decision.
        foreach (var (i, decision) in undecided.Zip(decisions))
        {
            if (decided.Remove(refs[i].OrderId))
            {
                outcomes[i] = new ProcessingOutcome(decision.Status, decision.Reason, [.. messages[i].Submitted.Lines.Select(l => l.ProductId)],
                    stock[refs[i].OrderId].ListsChanged);
            }
        }

        return outcomes;
    }
}

[JsonSerializable(typeof(OrderSubmitted))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
public sealed partial class WorkerJsonContext : JsonSerializerContext;
