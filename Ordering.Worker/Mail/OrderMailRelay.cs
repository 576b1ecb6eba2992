using AspireShop.Ordering.Data;
using AspireShop.Ordering.Relaying;
using AspireShop.Ordering.Sharding;
using Polly.Registry;

namespace Ordering.Worker.Mail;

/// <summary>Wakes a shard's mail relay as soon as an order is decided there.</summary>
public sealed class OrderMailSignal : WakeUpSignal;

/// <summary>One wake-up signal per order shard.</summary>
public sealed class OrderMailSignals(OrderShardMap map) : PerShardSignals<OrderMailSignal>(map);

/// <summary>
/// Sends the mails owed for decided orders. The record of the debt is the order's <see cref="MailOwed"/> row, written
/// in the same transaction that decided the order, so a worker that dies after the commit leaves the mail owed rather
/// than lost; it is deleted, and the order's <c>MailSentAt</c> set, by the transaction that records the mail sent. A batch is claimed and marked in the same transaction after sending, so two workers never
/// send the same mail (see <see cref="ShardedBatchRelay{TSignal}"/>), and a mail sent just before a crash is claimed
/// again by whichever relay comes next: the pickup sender finds its file and writes nothing; an SMTP server may get a
/// second copy with the same Message-ID.
/// </summary>
public sealed class OrderMailRelay(
    OrderShardMap shards, IOrderMailSender sender, OrderMailSignals signals, TimeProvider clock, ResiliencePipelineProvider<string> pipelines)
    : ShardedBatchRelay<OrderMailSignal>(shards, signals, pipelines)
{
    protected override string Name => "order-mail";

    protected override int BatchSize => 32;

    protected override TimeSpan IdlePoll => TimeSpan.FromSeconds(2);

    protected override async Task<int> RelayBatchAsync(OrderShard shard, CancellationToken cancellationToken)
    {
        await using var connection = await shard.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await BucketOwnership.HoldAllOwnedAsync(connection, transaction, cancellationToken);
        var owed = await ShardOrders.ClaimOwedMailsAsync(connection, transaction, BatchSize, cancellationToken);
        if (owed.Count == 0)
        {
            return 0;
        }

        var settled = new List<Guid>(owed.Count);
        Exception? failure = null;
        try
        {
            await sender.SendAsync(owed, settled, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            failure = e;
        }

        await ShardOrders.MarkMailsSentAsync(connection, transaction, settled, clock.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (failure is not null)
        {
            throw failure;
        }

        return settled.Count;
    }
}
