using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using Npgsql;

namespace AspireShop.Ordering.Sharding;

/// <summary>
/// Which buckets a shard owns (<c>ordering.owned_buckets</c>), and the lock that keeps a bucket from moving while a
/// transaction works on it: a transaction-scoped advisory lock per bucket, shared by everyday work and exclusive for a
/// move's freeze.
/// <para>
/// Advisory locks rather than <c>FOR SHARE</c> on the ownership row: PostgreSQL queues a waiting exclusive request
/// ahead of later shared ones, so a freeze waits only for the transactions already running, while a row's share
/// locks keep admitting new holders and can starve the freeze's DELETE under steady traffic. They also write nothing
/// (no tuple lock, no MultiXact), which matters on the read path.
/// </para>
/// Ownership must be read by a statement that starts after the lock is granted (read committed), as here: one that
/// started before could miss a freeze committed while it waited.
/// </summary>
public static class BucketOwnership
{
    /// <summary>
    /// The first key of the two-key advisory lock on a bucket (the second is the bucket): shared by everyday work,
    /// exclusive while a move freezes the bucket.
    /// </summary>
    public const int LockClass = 7261736;

    /// <summary>Whether this shard owns the bucket, holding it (shared) until the transaction ends.</summary>
    public static async Task<bool> HoldAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int bucket, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new("SELECT pg_advisory_xact_lock_shared($1, $2)") { Parameters = { new() { Value = LockClass }, new() { Value = bucket } } },
                new($"""SELECT EXISTS (SELECT 1 FROM {OrderingDbContext.Tables.OwnedBuckets} WHERE "Bucket" = $1)""") { Parameters = { new() { Value = bucket } } },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetBoolean(0);
    }

    /// <summary>
    /// Holds (shared) those of the buckets that can be held now, until the transaction ends, and returns them: a bucket
    /// a move is freezing (taken, or waited for, exclusively) is skipped rather than waited for, so one frozen bucket does
    /// not stall a batch of work on the others; the caller retries its part after the freeze. Ownership must be read by
    /// a later statement, and only for the buckets returned.
    /// </summary>
    public static async Task<HashSet<int>> TryHoldManyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<int> buckets, CancellationToken cancellationToken)
    {
        await using var hold = new NpgsqlCommand(
            "SELECT b FROM (SELECT DISTINCT unnest($2::int[]) AS b ORDER BY b) wanted WHERE pg_try_advisory_xact_lock_shared($1, b)",
            connection, transaction)
        {
            Parameters = { new() { Value = LockClass }, new() { Value = buckets.ToArray() } },
        };
        await using var reader = await hold.ExecuteReaderAsync(cancellationToken);
        var held = new HashSet<int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            held.Add(reader.GetInt32(0));
        }

        return held;
    }

    /// <summary>
    /// Holds (shared) every bucket this shard owns until the transaction ends, for work that claims rows of many
    /// buckets: a later statement that joins <c>ordering.owned_buckets</c> sees exactly the buckets it may touch.
    /// In bucket order, so two holders and a freeze can never wait on each other in a circle.
    /// </summary>
    public static async Task HoldAllOwnedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var hold = new NpgsqlCommand(
            $"""SELECT count(pg_advisory_xact_lock_shared($1, b."Bucket")) FROM (SELECT "Bucket" FROM {OrderingDbContext.Tables.OwnedBuckets} ORDER BY "Bucket") b""",
            connection, transaction)
        { Parameters = { new() { Value = LockClass } } };
        await hold.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// Takes the bucket exclusively until the transaction ends: waits for the transactions holding it now, while
    /// later ones queue behind. Under <c>lock_timeout</c> when the caller sets one.
    /// </summary>
    public static async Task TakeExclusivelyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int bucket, CancellationToken cancellationToken)
    {
        await using var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1, $2)", connection, transaction)
        {
            Parameters = { new() { Value = LockClass }, new() { Value = bucket } },
        };
        await take.ExecuteNonQueryAsync(cancellationToken);
    }
}
