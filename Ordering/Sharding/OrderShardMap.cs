using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AspireShop.Ordering.Sharding;

/// <summary>One order shard: a PostgreSQL primary with the <c>ordering</c> schema.</summary>
public sealed record OrderShard(int Number, NpgsqlDataSource DataSource)
{
    public string Name => $"shard{Number}";
}

/// <summary>
/// The order shards and the shard map (bucket to shard), kept in <c>sharding.bucket_map</c> of the catalog database
/// and cached here. The cache may be stale for a moment after a bucket moves; that is safe because every shard
/// transaction first checks that its shard owns the bucket (<see cref="BucketOwnership"/>) and, if not, the caller
/// refreshes the map and retries on the new owner. The directory is the catalog database's data source, the same
/// traced one the service registered (<see cref="OrderShardRegistration.AddOrderShards"/>).
/// </summary>
public sealed class OrderShardMap(IReadOnlyList<OrderShard> shards, NpgsqlDataSource directory)
{
    private volatile int[] _owners = InitialOwners(shards.Count);

    public IReadOnlyList<OrderShard> Shards { get; } = shards;

    /// <summary>The catalog database's data source, where the directory lives.</summary>
    public NpgsqlDataSource Directory { get; } = directory;

    /// <summary>Where buckets start: bucket b on shard (b mod N) + 1. What the map holds until a bucket is moved.</summary>
    public static int[] InitialOwners(int shardCount) => [.. Enumerable.Range(0, OrderBuckets.Count).Select(b => b % shardCount + 1)];

    public OrderShard ForBucket(int bucket) => Shards[_owners[bucket] - 1];

    public OrderShard Shard(int number) => Shards[number - 1];

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using var command = Directory.CreateCommand($"""SELECT "Bucket", "Shard" FROM {OrderShardMapDbContext.Tables.BucketMap}""");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var owners = InitialOwners(Shards.Count);
        while (await reader.ReadAsync(cancellationToken))
        {
            owners[reader.GetInt32(0)] = reader.GetInt32(1);
        }

        _owners = owners;
    }
}

/// <summary>The shard that was asked no longer owns the bucket (it moved); refresh the map and ask the new owner.</summary>
public sealed class BucketMovedException(int bucket, OrderShard shard)
    : PassingConditionException($"Bucket {bucket} is no longer on {shard.Name}.");

/// <summary>Keeps the cached shard map fresh: a moved bucket is seen within a second even by a process not touching it.</summary>
internal sealed class OrderShardMapRefresher(OrderShardMap map, ILogger<OrderShardMapRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        do
        {
            try
            {
                await map.RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // Not migrated yet, or the catalog database is restarting: keep the map we have.
                logger.LogDebug("Refreshing the order shard map failed: {Problem}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

public static class OrderShardRegistration
{
    /// <summary>
    /// Every order shard this service is given (connection strings <c>ordersdb-shard1</c>, <c>ordersdb-shard2</c>, ...
    /// numbered from 1 without gaps), each with Aspire's Npgsql client (health check, traces, metrics), and the catalog
    /// database's data source (<c>catalogdb</c>, keyed by that name), where the shard map is and where Catalog.Stock
    /// reserves stock.
    /// </summary>
    public static IHostApplicationBuilder AddOrderShards(this IHostApplicationBuilder builder)
    {
        var names = Enumerable.Range(1, int.MaxValue)
            .Select(ResourceNames.OrderShard)
            .TakeWhile(name => !string.IsNullOrEmpty(builder.Configuration.GetConnectionString(name)))
            .ToList();
        if (names.Count == 0)
        {
            throw new InvalidOperationException(
                $"No order shard is configured: set ConnectionStrings:{ResourceNames.OrderShard(1)} (and {ResourceNames.OrderShard(2)}, ... for more).");
        }

        if (string.IsNullOrEmpty(builder.Configuration.GetConnectionString(ResourceNames.CatalogDb)))
        {
            throw new InvalidOperationException($"ConnectionStrings:{ResourceNames.CatalogDb} (where the shard map lives) is not configured.");
        }

        builder.AddKeyedNpgsqlDataSource(ResourceNames.CatalogDb, configureDataSourceBuilder: AutoPrepare);
        foreach (var name in names)
        {
            builder.AddKeyedNpgsqlDataSource(name, configureDataSourceBuilder: AutoPrepare);
        }

        builder.Services.AddSingleton(services => new OrderShardMap(
            [.. names.Select((name, i) => new OrderShard(i + 1, services.GetRequiredKeyedService<NpgsqlDataSource>(name)))],
            services.GetRequiredKeyedService<NpgsqlDataSource>(ResourceNames.CatalogDb)));
        builder.Services.AddHostedService<OrderShardMapRefresher>();
        return builder;
    }

    /// <summary>
    /// Every order runs the same few statements (intake, decision, relays), so the server keeps them prepared per
    /// connection once used twice: no parse and plan per execution. Set here rather than in the AppHost's connection
    /// strings, so it holds with managed servers too.
    /// </summary>
    private static void AutoPrepare(NpgsqlDataSourceBuilder dataSource)
    {
        dataSource.ConnectionStringBuilder.MaxAutoPrepare = 32;
        dataSource.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
    }
}
