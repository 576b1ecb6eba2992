using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Polly;
using Polly.Registry;

namespace Ordering.Api.Sharding;

/// <summary>What a bucket holds on one shard, compared before a move switches the map.</summary>
public sealed record BucketSummary(int Orders, decimal Total, string Statuses, int Lines, int MailsOwed, int Inbox, int UnsentOutbox, int Outbox);

public sealed record BucketMoveReport(int Bucket, string From, string To, BucketSummary Moved, TimeSpan Frozen);

public sealed class BucketMoveFailedException(string message) : Exception(message);

/// <summary>
/// Moves one bucket's orders to another shard while the shop runs (see docs/design/order-sharding.md): copy, freeze
/// the bucket on its source (taking it exclusively waits for every transaction holding it; later ones find it gone
/// and retry), copy what changed meanwhile, verify, give the target ownership and switch the map, delete
/// the source's rows.
/// <para>
/// One move at a time in the whole shop: a move holds a session advisory lock on the directory (<see cref="MoveLock"/>)
/// for as long as it runs, whichever process runs it (an API replica for the dashboard, the <c>shards</c> command), and
/// a second is refused. The map is the truth: a move that fails before its map update committed gives the bucket back
/// to its source; one whose map update committed is finished, never undone. Under the same lock, before each move and
/// every few seconds in Ordering.Api (<see cref="BucketMoveRecovery"/>), <see cref="RepairAsync"/> puts back what a
/// move killed half-way left: the owner the map names, and no rows of a bucket on a shard that does not own it.
/// </para>
/// </summary>
public sealed class BucketMover(
    OrderShardContexts shards, OrderShardMapDbContext directory, ResiliencePipelineProvider<string> pipelines, TimeProvider clock, ILogger<BucketMover> logger)
{
    private static readonly TimeSpan FreezeLockTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The session advisory lock on the directory that a move, or a repair, holds while it runs.</summary>
    public const long MoveLock = 7261739;

    /// <summary>The <c>application_name</c> of the directory session a move holds its lock on: how an operator (or a test) sees a move running.</summary>
    public const string MoveSessionName = "aspireshop bucket move";

    public async Task<BucketMoveReport> MoveAsync(int bucket, int toShard, CancellationToken cancellationToken)
    {
        await using var held = await TryHoldMoveLockAsync(RepairTakesAtMost, cancellationToken)
            ?? throw new BucketMoveFailedException("Another bucket move is running; try again when it has finished.");
        await held.NameAsync(MoveSessionName, cancellationToken);
        await RepairAsync(cancellationToken);
        return await MoveHoldingLockAsync(bucket, toShard, cancellationToken);
    }

    /// <summary>
    /// Under the move lock, when no move holds it: returns false at once otherwise. Makes every bucket owned by exactly
    /// the shard the map names (a move killed between its freeze and its switch leaves the bucket owned by no shard, or
    /// by the target too), then deletes the rows a shard holds of buckets it does not own (a killed move's copies, or
    /// a source's rows after the switch).
    /// </summary>
    public async Task<bool> TryRepairAsync(CancellationToken cancellationToken)
    {
        await using var held = await TryHoldMoveLockAsync(TimeSpan.Zero, cancellationToken);
        if (held is null)
        {
            return false;
        }

        await RepairAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// How long a move waits for the lock before it is refused: longer than a repair holds it (milliseconds, every few
    /// seconds), far shorter than another move does.
    /// </summary>
    private static readonly TimeSpan RepairTakesAtMost = TimeSpan.FromSeconds(3);

    /// <summary>Takes the move lock, waiting at most <paramref name="wait"/>; null if another holds it still.</summary>
    private async Task<MoveLockSession?> TryHoldMoveLockAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        var session = await shards.Map.Directory.OpenConnectionAsync(cancellationToken);
        try
        {
            var deadline = DateTimeOffset.UtcNow + wait;
            while (true)
            {
                await using var take = new NpgsqlCommand($"SELECT pg_try_advisory_lock({MoveLock})", session);
                if ((bool)(await take.ExecuteScalarAsync(cancellationToken))!)
                {
                    return new MoveLockSession(session);
                }

                if (DateTimeOffset.UtcNow >= deadline)
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }

        await session.DisposeAsync();
        return null;
    }

    /// <summary>The directory session that holds the move lock; released before the connection goes back to the pool.</summary>
    private sealed class MoveLockSession(NpgsqlConnection session) : IAsyncDisposable
    {
        /// <summary>Names the session in <c>pg_stat_activity</c> until it goes back to the pool (which resets it).</summary>
        public async Task NameAsync(string name, CancellationToken cancellationToken)
        {
            await using var set = new NpgsqlCommand("SELECT set_config('application_name', $1, false)", session) { Parameters = { new() { Value = name } } };
            await set.ExecuteNonQueryAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                // The pool keeps a connection's settings when it resets it, so the name goes with the lock.
                await using var release = new NpgsqlCommand($"RESET application_name; SELECT pg_advisory_unlock({MoveLock})", session);
                await release.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // A broken session has lost the lock already, and the pool discards a broken connection.
            }

            await session.DisposeAsync();
        }
    }

    private async Task RepairAsync(CancellationToken cancellationToken)
    {
        await shards.Map.RefreshAsync(cancellationToken);
        var ownedSomewhere = new HashSet<int>();
        foreach (var shard in shards.Map.Shards)
        {
            await using var db = shards.Create(shard);
            foreach (var bucket in await db.OwnedBuckets.Select(b => b.Bucket).ToListAsync(cancellationToken))
            {
                if (shards.Map.ForBucket(bucket) == shard)
                {
                    ownedSomewhere.Add(bucket);
                    continue;
                }

                logger.LogWarning("Bucket {Bucket} is owned by {Shard} but mapped to {Owner} (a move stopped half-way): {Shard} gives it up.",
                    bucket, shard.Name, shards.Map.ForBucket(bucket).Name, shard.Name);
                await FreezeAsync(shard, bucket, cancellationToken);
            }
        }

        foreach (var bucket in Enumerable.Range(0, OrderBuckets.Count).Where(bucket => !ownedSomewhere.Contains(bucket)))
        {
            // Frozen on the map's shard and never switched: its rows there are complete (nothing wrote them since).
            var owner = shards.Map.ForBucket(bucket);
            logger.LogWarning("Bucket {Bucket} is owned by no shard (a move stopped half-way): {Owner}, which the map names, takes it back.",
                bucket, owner.Name);
            await OwnAsync(owner, bucket, cancellationToken);
        }

        foreach (var shard in shards.Map.Shards)
        {
            foreach (var bucket in await LeftoverBucketsAsync(shard, cancellationToken))
            {
                logger.LogInformation("Deleting the rows {Shard} still holds of bucket {Bucket}, which it does not own.", shard.Name, bucket);
                await DeleteBucketAsync(shard, bucket, cancellationToken);
            }
        }
    }

    /// <summary>The buckets the shard holds rows of but does not own (index lookups on the bucket columns, 64 at most).</summary>
    private async Task<List<int>> LeftoverBucketsAsync(OrderShard shard, CancellationToken cancellationToken)
    {
        await using var db = shards.Create(shard);
        return await db.Database.SqlQueryRaw<int>($$"""
            SELECT b AS "Value" FROM generate_series(0, {{OrderBuckets.Count - 1}}) AS b
            WHERE NOT EXISTS (SELECT 1 FROM {{OrderingDbContext.Tables.OwnedBuckets}} WHERE "Bucket" = b)
              AND (EXISTS (SELECT 1 FROM {{OrderingDbContext.Tables.Orders}} WHERE "Bucket" = b)
                   OR EXISTS (SELECT 1 FROM {{OrderingDbContext.Tables.Inbox}} WHERE "Bucket" = b)
                   OR EXISTS (SELECT 1 FROM {{OrderingDbContext.Tables.Outbox}} WHERE "Bucket" = b))
            """).ToListAsync(cancellationToken);
    }

    private async Task<BucketMoveReport> MoveHoldingLockAsync(int bucket, int toShard, CancellationToken cancellationToken)
    {
        if (bucket is < 0 or >= OrderBuckets.Count)
        {
            throw new BucketMoveFailedException($"There is no bucket {bucket}: buckets are 0 to {OrderBuckets.Count - 1}.");
        }

        if (toShard < 1 || toShard > shards.Map.Shards.Count)
        {
            throw new BucketMoveFailedException($"There is no shard {toShard}: shards are 1 to {shards.Map.Shards.Count}.");
        }

        await shards.Map.RefreshAsync(cancellationToken);
        var source = shards.Map.ForBucket(bucket);
        var target = shards.Map.Shard(toShard);
        if (source == target)
        {
            // Already there (the repair has deleted any leftovers elsewhere).
            return new BucketMoveReport(bucket, source.Name, target.Name, await SummaryAsync(target, bucket, cancellationToken), TimeSpan.Zero);
        }

        logger.LogInformation("Moving bucket {Bucket} from {Source} to {Target}: copying.", bucket, source.Name, target.Name);
        var copied = await CopyAsync(bucket, source, target, since: null, cancellationToken);

        var frozenAt = clock.GetTimestamp();
        BucketSummary moved;
        try
        {
            await FreezeAsync(source, bucket, cancellationToken);
            await CopyAsync(bucket, source, target, since: copied, cancellationToken);
            moved = await SummaryAsync(source, bucket, cancellationToken);
            var onTarget = await SummaryAsync(target, bucket, cancellationToken);
            if (moved != onTarget)
            {
                throw new BucketMoveFailedException($"Bucket {bucket} differs after copying: {source.Name} has {moved}, {target.Name} has {onTarget}.");
            }

            await OwnAsync(target, bucket, cancellationToken);
            await directory.BucketMap.Where(b => b.Bucket == bucket)
                .ExecuteUpdateAsync(set => set.SetProperty(b => b.Shard, target.Number), cancellationToken);
        }
        catch (Exception problem)
        {
            // What the map says decides, read again: an update whose answer was lost may have committed. Switched, the
            // move is done (the source's rows are deleted by the next repair); not switched, the bucket goes back to
            // its source, as it was, and the target's copies go.
            await shards.Map.RefreshAsync(CancellationToken.None);
            if (shards.Map.ForBucket(bucket) == target)
            {
                logger.LogWarning("Moving bucket {Bucket} failed after its map switched to {Target} ({Problem}); the move stands.", bucket, target.Name, problem.Message);
                throw;
            }

            await FreezeAsync(target, bucket, CancellationToken.None);
            await OwnAsync(source, bucket, CancellationToken.None);
            await DeleteBucketAsync(target, bucket, CancellationToken.None);
            throw;
        }

        var frozen = clock.GetElapsedTime(frozenAt);
        await shards.Map.RefreshAsync(cancellationToken);
        await DeleteBucketAsync(source, bucket, cancellationToken);
        logger.LogInformation("Moved bucket {Bucket} from {Source} to {Target} ({Moved}); writes waited {Frozen}.", bucket, source.Name, target.Name, moved, frozen);
        return new BucketMoveReport(bucket, source.Name, target.Name, moved, frozen);
    }

    /// <summary>
    /// Makes the target's copy of the bucket equal to the source's: the target does not own the bucket, so nothing else
    /// reads or writes those rows there, and replacing them in one transaction is exact. The first copy replaces all of
    /// them; the catch-up (<paramref name="since"/>: what the first copy saw) replaces only the orders (with their lines and
    /// owed mail, which change only with the order's row) and outbox rows written since (a row's <c>xmin</c>, the
    /// transaction that wrote its version, changes with every update) and adds
    /// the new inbox rows (never updated), so the freeze lasts as long as the writes made during the copy, not as long
    /// as the bucket's whole history.
    /// </summary>
    private async Task<BucketVersions> CopyAsync(int bucket, OrderShard source, OrderShard target, BucketVersions? since, CancellationToken cancellationToken)
    {
        BucketVersions now;
        List<Order> orders;
        List<InboxMessage> inbox;
        List<OutboxMessage> outbox;
        await using (var from = shards.Create(source))
        {
            await using var snapshot = await from.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            now = new BucketVersions(
                await VersionsAsync(from.Database.SqlQueryRaw<RowVersion>(
                    $$"""SELECT "Id" AS "Key", xmin::text::bigint AS "Version" FROM {{OrderingDbContext.Tables.Orders}} WHERE "Bucket" = {0}""", bucket), cancellationToken),
                await VersionsAsync(from.Database.SqlQueryRaw<RowVersion>(
                    $$"""SELECT "MessageId" AS "Key", xmin::text::bigint AS "Version" FROM {{OrderingDbContext.Tables.Outbox}} WHERE "Bucket" = {0}""", bucket), cancellationToken),
                [.. await from.Inbox.Where(m => m.Bucket == bucket).Select(m => m.MessageId).ToListAsync(cancellationToken)]);
            var changedOrders = now.Orders.Keys.Where(id => since?.Orders.GetValueOrDefault(id) != now.Orders[id]).ToList();
            var changedOutbox = now.Outbox.Keys.Where(id => since?.Outbox.GetValueOrDefault(id) != now.Outbox[id]).ToList();
            var newInbox = now.Inbox.Where(id => since?.Inbox.Contains(id) != true).ToList();
            orders = await from.Orders.AsNoTracking().Include(o => o.Lines).Include(o => o.MailOwed)
                .Where(o => changedOrders.Contains(o.Id)).ToListAsync(cancellationToken);
            outbox = await from.Outbox.AsNoTracking().Where(m => changedOutbox.Contains(m.MessageId)).ToListAsync(cancellationToken);
            inbox = await from.Inbox.AsNoTracking().Where(m => newInbox.Contains(m.MessageId)).ToListAsync(cancellationToken);
        }

        // The target numbers its own outbox rows; the message id, not the row id, is what identifies a message.
        outbox.ForEach(message => message.Id = 0);

        await using var to = shards.Create(target);
        await using var transaction = await to.Database.BeginTransactionAsync(cancellationToken);
        if (await to.OwnedBuckets.AnyAsync(b => b.Bucket == bucket, cancellationToken))
        {
            throw new BucketMoveFailedException($"{target.Name} owns bucket {bucket} already, though the map names {source.Name}: nothing is copied over its rows.");
        }

        if (since is null)
        {
            await DeleteBucketRowsAsync(to, bucket, cancellationToken);
        }
        else
        {
            // Replaced rows go first; so do rows gone from the source since the first copy (none in normal operation).
            var replacedOrders = orders.Select(o => o.Id).Concat(since.Orders.Keys.Where(id => !now.Orders.ContainsKey(id))).ToList();
            var replacedOutbox = outbox.Select(m => m.MessageId).Concat(since.Outbox.Keys.Where(id => !now.Outbox.ContainsKey(id))).ToList();
            var goneInbox = since.Inbox.Where(id => !now.Inbox.Contains(id)).ToList();
            await to.Orders.Where(o => replacedOrders.Contains(o.Id)).ExecuteDeleteAsync(cancellationToken);
            await to.Outbox.Where(m => replacedOutbox.Contains(m.MessageId)).ExecuteDeleteAsync(cancellationToken);
            await to.Inbox.Where(m => goneInbox.Contains(m.MessageId)).ExecuteDeleteAsync(cancellationToken);
        }

        to.Orders.AddRange(orders);
        to.Inbox.AddRange(inbox);
        to.Outbox.AddRange(outbox);
        await to.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return now;
    }

    private static async Task<Dictionary<Guid, long>> VersionsAsync(IQueryable<RowVersion> rows, CancellationToken cancellationToken)
        => await rows.ToDictionaryAsync(row => row.Key, row => row.Version, cancellationToken);

    /// <summary>The version (<c>xmin</c>) of each order and outbox row of a bucket, and its inbox message ids, as one copy saw them.</summary>
    private sealed record BucketVersions(Dictionary<Guid, long> Orders, Dictionary<Guid, long> Outbox, HashSet<Guid> Inbox);

    private sealed class RowVersion
    {
        public Guid Key { get; init; }

        public long Version { get; init; }
    }

    /// <summary>
    /// Deletes the shard's rows of a bucket it does not own: holding the bucket exclusively (so no transaction that
    /// found it owned is still at work on it), and refusing if the shard owns it after all, so cleanup can never delete
    /// the orders of the bucket's owner.
    /// </summary>
    private async Task DeleteBucketAsync(OrderShard shard, int bucket, CancellationToken cancellationToken)
    {
        await using var db = shards.Create(shard);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await BucketOwnership.TakeExclusivelyAsync(
            (NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)transaction.GetDbTransaction(), bucket, cancellationToken);
        if (await db.OwnedBuckets.AnyAsync(b => b.Bucket == bucket, cancellationToken))
        {
            throw new BucketMoveFailedException($"{shard.Name} owns bucket {bucket}: its rows there are not deleted.");
        }

        await DeleteBucketRowsAsync(db, bucket, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task DeleteBucketRowsAsync(OrderingDbContext db, int bucket, CancellationToken cancellationToken)
    {
        // Order lines go with their orders (cascade).
        await db.Orders.Where(o => o.Bucket == bucket).ExecuteDeleteAsync(cancellationToken);
        await db.Inbox.Where(m => m.Bucket == bucket).ExecuteDeleteAsync(cancellationToken);
        await db.Outbox.Where(m => m.Bucket == bucket).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>
    /// Ends the shard's ownership of the bucket: takes it exclusively (waiting for the transactions holding it; later
    /// ones queue behind and then find it gone) and deletes its ownership row. Each attempt waits at most
    /// <see cref="FreezeLockTimeout"/> (<see cref="ShopResilience.LockTimeout"/> makes three), so a stuck holder makes
    /// the move fail cleanly rather than hang the bucket.
    /// </summary>
    private async Task FreezeAsync(OrderShard shard, int bucket, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get($"freeze bucket {bucket} on {shard.Name}", cancellationToken);
        try
        {
            await pipelines.GetPipeline(ShopResilience.LockTimeout).ExecuteAsync(async context =>
            {
                await using var db = shards.Create(shard);
                await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
                await db.Database.ExecuteSqlAsync(
                    $"SELECT set_config('lock_timeout', {$"{FreezeLockTimeout.TotalMilliseconds}ms"}, true)", context.CancellationToken);
                await BucketOwnership.TakeExclusivelyAsync(
                    (NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)transaction.GetDbTransaction(), bucket, context.CancellationToken);
                await db.OwnedBuckets.Where(b => b.Bucket == bucket).ExecuteDeleteAsync(context.CancellationToken);
                await transaction.CommitAsync(context.CancellationToken);
            }, context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async Task OwnAsync(OrderShard shard, int bucket, CancellationToken cancellationToken)
    {
        await using var db = shards.Create(shard);
        await db.OwnAsync([bucket], cancellationToken);
    }

    public async Task<BucketSummary> SummaryAsync(OrderShard shard, int bucket, CancellationToken cancellationToken)
    {
        await using var db = shards.Create(shard);
        var orders = db.Orders.Where(o => o.Bucket == bucket);
        var statuses = await orders.GroupBy(o => o.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        return new BucketSummary(
            await orders.CountAsync(cancellationToken),
            await orders.SumAsync(o => o.Total, cancellationToken),
            string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key} {s.Count}")),
            await orders.SelectMany(o => o.Lines).CountAsync(cancellationToken),
            await orders.CountAsync(o => o.MailOwed != null, cancellationToken),
            await db.Inbox.CountAsync(m => m.Bucket == bucket, cancellationToken),
            await db.Outbox.CountAsync(m => m.Bucket == bucket && m.SentAt == null, cancellationToken),
            await db.Outbox.CountAsync(m => m.Bucket == bucket, cancellationToken));
    }
}
