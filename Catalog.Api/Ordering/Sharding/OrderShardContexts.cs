using AspireShop.Contracts.Sharding;
using Catalog.Api.Ordering.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Catalog.Api.Ordering.Sharding;

/// <summary>The bucket's orders cannot be reached now (its shard is down, or a move took longer than the wait).</summary>
public sealed class OrderShardUnavailableException(int bucket, Exception? problem)
    : Exception($"The orders of bucket {bucket} are unavailable right now.", problem);

/// <summary>
/// The orders database context of each shard, and the one way the API works on a bucket's orders:
/// <see cref="InOwningShardAsync{T}"/>.
/// </summary>
public sealed class OrderShardContexts(OrderShardMap map, ILogger<OrderShardContexts> logger)
{
    /// <summary>How long a request waits for a bucket that is moving; a longer freeze answers 503 (see the design).</summary>
    public static readonly TimeSpan MoveWait = TimeSpan.FromSeconds(5);

    private readonly DbContextOptions<OrderingDbContext>[] _options = [.. map.Shards.Select(OptionsFor)];

    public OrderShardMap Map => map;

    public OrderingDbContext Create(OrderShard shard) => new(_options[shard.Number - 1]);

    private static DbContextOptions<OrderingDbContext> OptionsFor(OrderShard shard)
        => new DbContextOptionsBuilder<OrderingDbContext>()
            .UseNpgsql(shard.DataSource, npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory", OrderingDbContext.Schema))
            .Options;

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction on the shard that owns the bucket, holding the bucket (shared) so
    /// it cannot move away meanwhile. A shard that no longer owns it (the map here was stale) is left for the
    /// new owner after a map refresh; a moving bucket or a transient database failure is waited out for up to
    /// <see cref="MoveWait"/>, then <see cref="OrderShardUnavailableException"/>.
    /// </summary>
    public async Task<(T Result, OrderShard Shard)> InOwningShardAsync<T>(
        int bucket, Func<OrderingDbContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + MoveWait;
        var delay = TimeSpan.FromMilliseconds(25);
        Exception? problem = null;
        while (true)
        {
            var shard = map.ForBucket(bucket);
            try
            {
                await using var db = Create(shard);
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                if (await BucketOwnership.HoldAsync(
                        (NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)transaction.GetDbTransaction(), bucket, cancellationToken))
                {
                    var result = await work(db, cancellationToken);
                    await transaction.CommitAsync(cancellationToken);
                    return (result, shard);
                }
            }
            catch (Exception e) when (e is NpgsqlException { IsTransient: true } || e.InnerException is NpgsqlException { IsTransient: true })
            {
                problem = e;
                logger.LogWarning("{Shard} failed for bucket {Bucket} ({Problem}); retrying.", shard.Name, bucket, e.Message);
            }

            if (DateTime.UtcNow + delay > deadline)
            {
                throw new OrderShardUnavailableException(bucket, problem);
            }

            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(400).Ticks));
            try
            {
                await map.RefreshAsync(cancellationToken);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                logger.LogWarning("Refreshing the order shard map failed ({Problem}).", e.Message);
            }
        }
    }
}
