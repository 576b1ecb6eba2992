using AspireShop.Ordering.Data;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Registry;

namespace AspireShop.Ordering.Sharding;

/// <summary>The bucket's orders cannot be reached now (its shard is down, or a move took longer than the wait).</summary>
public sealed class OrderShardUnavailableException(int bucket, Exception? problem)
    : Exception($"The orders of bucket {bucket} are unavailable right now.", problem);

/// <summary>
/// The orders database context of each shard, and the one way the API works on a bucket's orders:
/// <see cref="InOwningShardAsync{T}"/>.
/// </summary>
public sealed class OrderShardContexts(OrderShardMap map, ResiliencePipelineProvider<string> pipelines, ILogger<OrderShardContexts> logger)
{
    private readonly ResiliencePipeline _wait = pipelines.GetPipeline(ShopResilience.BriefDatabaseWait);
    private readonly DbContextOptions<OrderingDbContext>[] _options = [.. map.Shards.Select(OptionsFor)];

    public OrderShardMap Map => map;

    public OrderingDbContext Create(OrderShard shard) => new(_options[shard.Number - 1]);

    private static DbContextOptions<OrderingDbContext> OptionsFor(OrderShard shard)
        => new DbContextOptionsBuilder<OrderingDbContext>()
            .UseNpgsql(shard.DataSource, npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory", OrderingDbContext.Schema))
            .Options;

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction on the shard that owns the bucket, holding the bucket (shared) so
    /// it cannot move away meanwhile. A shard that no longer owns it (the map here was stale) is left for the new owner
    /// after a map refresh; a moving bucket or a database outage is waited out by the
    /// <see cref="ShopResilience.BriefDatabaseWait"/> pipeline (about 5 s; a longer freeze answers 503, see the design), then
    /// <see cref="OrderShardUnavailableException"/>.
    /// </summary>
    public Task<(T Result, OrderShard Shard)> InOwningShardAsync<T>(
        int bucket, Func<OrderingDbContext, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
        => OnOwningShardAsync(bucket, async (shard, cancellationToken) =>
        {
            await using var db = Create(shard);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (!await BucketOwnership.HoldAsync(
                    (NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)transaction.GetDbTransaction(), bucket, cancellationToken))
            {
                throw new BucketMovedException(bucket, shard);
            }

            var result = await work(db, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return (result, shard);
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> against the shard the map names for the bucket; work that finds the bucket is not
    /// owned there throws <see cref="BucketMovedException"/>, and is run again on the owner after a map refresh. Moves and
    /// outages are waited out as in <see cref="InOwningShardAsync{T}"/>, then <see cref="OrderShardUnavailableException"/>.
    /// </summary>
    public async Task<T> OnOwningShardAsync<T>(int bucket, Func<OrderShard, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get($"orders of bucket {bucket}", cancellationToken);
        var attempts = 0;
        try
        {
            return await _wait.ExecuteAsync(async context =>
            {
                if (attempts++ > 0)
                {
                    await RefreshMapAsync(context.CancellationToken);
                }

                return await work(map.ForBucket(bucket), context.CancellationToken);
            }, context);
        }
        catch (Exception e) when (e is PassingConditionException || ShopResilience.IsDatabaseOutage(e))
        {
            throw new OrderShardUnavailableException(bucket, e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>A map that cannot be read now is kept: the retry asks the shard the old map names, which says if it moved.</summary>
    private async Task RefreshMapAsync(CancellationToken cancellationToken)
    {
        try
        {
            await map.RefreshAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            logger.LogWarning("Refreshing the order shard map failed ({Problem}); asking the shards it names.", e.Message);
        }
    }
}
