using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AspireShop.Ordering.Sharding;

/// <summary>Brings every order shard's schema up to date and, on first start, writes the shard map.</summary>
public static class OrderShardSetup
{
    /// <summary>
    /// The advisory lock under which a starting process migrates the ordering databases and writes the first shard map:
    /// one at a time, the others find it done. Taken in the catalog database, where Catalog.Api's schema lock (CatalogSchema)
    /// is too: the two ids must differ.
    /// </summary>
    private const long SchemaLock = 7261735;

    public static async Task EnsureAsync(OrderShardMapDbContext directory, OrderShardContexts shards, CancellationToken cancellationToken)
    {
        // EF's own migration lock (a table lock per database) still let two replicas starting together on fresh
        // shards apply the same migration ("column already exists", then a retry). One session lock on the directory
        // makes the whole setup one process at a time; a process that dies releases it with its session.
        await using var lockSession = await shards.Map.Directory.OpenConnectionAsync(cancellationToken);
        await RunAsync(lockSession, $"SELECT pg_advisory_lock({SchemaLock})", cancellationToken);
        try
        {
            await MigrateAndMapAsync(directory, shards, cancellationToken);
        }
        finally
        {
            // Released before the connection goes back to the pool, which would otherwise keep it held.
            await RunAsync(lockSession, $"SELECT pg_advisory_unlock({SchemaLock})", CancellationToken.None);
        }
    }

    private static async Task RunAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task MigrateAndMapAsync(OrderShardMapDbContext directory, OrderShardContexts shards, CancellationToken cancellationToken)
    {
        await directory.Database.MigrateAsync(cancellationToken);
        foreach (var shard in shards.Map.Shards)
        {
            await using var ordering = shards.Create(shard);
            await ordering.Database.MigrateAsync(cancellationToken);
        }

        // One replica writes the map; the others, after the lock, find it written. Each shard's ownership rows
        // go first and the map last: a start that dies half-way finds the map still empty and does it all again, and
        // once the map exists (buckets may have moved since) ownership is never written from the initial layout.
        // The directory's connection retries transient failures, so the unit runs through its execution strategy.
        await directory.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            directory.ChangeTracker.Clear();
            await using var transaction = await directory.Database.BeginTransactionAsync(ct);
            if (await directory.BucketMap.AnyAsync(ct))
            {
                return;
            }

            var owners = OrderShardMap.InitialOwners(shards.Map.Shards.Count);
            foreach (var shard in shards.Map.Shards)
            {
                var buckets = Enumerable.Range(0, OrderBuckets.Count).Where(bucket => owners[bucket] == shard.Number).ToArray();
                await using var ordering = shards.Create(shard);
                await ordering.OwnAsync(buckets, ct);
            }

            directory.BucketMap.AddRange(owners.Select((shard, bucket) => new BucketAssignment { Bucket = bucket, Shard = shard }));
            await directory.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }, cancellationToken);
        await shards.Map.RefreshAsync(cancellationToken);
    }
}
