using System.Diagnostics.Metrics;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults;
using Npgsql;

namespace Ordering.Api.Operations;

/// <summary>
/// Samples, every few seconds, what only the shards know: per order shard the outbox backlog (count and oldest
/// message's age), the orders stored and the database's size, so skew between shards is visible. Every API replica
/// reports the same values (alert rules take the max).
/// </summary>
public sealed class OrderShardSampler : PeriodicSampler
{
    private readonly OrderShardMap _shards;
    private IReadOnlyList<ShardSample> _samples = [];

    private sealed record ShardSample(KeyValuePair<string, object?> Shard, long OutboxPending, double OutboxOldestAgeSeconds, long Orders, long Bytes);

    public OrderShardSampler(OrderShardMap shards, OrderingApiMetrics metrics, ILogger<OrderShardSampler> logger)
        : base(logger)
    {
        _shards = shards;
        metrics.Meter.CreateObservableGauge("aspireshop.outbox.pending", () => Per(s => s.OutboxPending), "{message}",
            "Outbox messages not yet published to RabbitMQ (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.outbox.oldest_pending_age", () => Per(s => s.OutboxOldestAgeSeconds), "s",
            "Age of the oldest outbox message not yet published, 0 when none (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.orders.stored", () => Per(s => s.Orders), "{order}",
            "Orders stored on each order shard, as the planner estimates them (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.shard.size", () => Per(s => s.Bytes), "By",
            "Size of each order shard's database (tag shard).");
    }

    private IEnumerable<Measurement<T>> Per<T>(Func<ShardSample, T> value) where T : struct
        => _samples.Select(sample => new Measurement<T>(value(sample), sample.Shard));

    protected override string What => "the order shards";

    protected override async Task SampleAsync(CancellationToken cancellationToken)
    {
        var samples = new List<ShardSample>();
        foreach (var shard in _shards.Shards)
        {
            // The backlog is counted exactly (the partial index of unsent messages keeps that as small as the backlog);
            // the orders stored are the planner's estimate, kept by autovacuum, since an exact count would grow with
            // the shard's whole history (-1 until the table was first analysed: then 0).
            await using var command = shard.DataSource.CreateCommand($"""
                SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min("CreatedAt")), 0)::float8,
                       (SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = '{OrderingDbContext.Tables.Orders}'::regclass),
                       pg_database_size(current_database())
                FROM {OrderingDbContext.Tables.Outbox} WHERE "SentAt" IS NULL
                """);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            samples.Add(new ShardSample(new("shard", shard.Name), reader.GetInt64(0), reader.GetDouble(1), reader.GetInt64(2), reader.GetInt64(3)));
        }

        _samples = samples;
    }
}
