using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;
using Npgsql;

namespace Ordering.Api.Operations;

/// <summary>
/// Samples, every few seconds, what only the shards know: per order shard the outbox backlog (count and oldest
/// message's age), the orders stored and the database's size, so skew between shards is visible. Every API replica
/// reports the same values (alert rules take the max).
/// </summary>
public sealed class OrderShardSampler : PerShardSampler<OrderShardSampler.ShardState>
{
    public sealed record ShardState(long OutboxPending, double OutboxOldestAgeSeconds, long Orders, long Bytes);

    public OrderShardSampler(OrderShardMap shards, OrderingApiMetrics metrics, ILogger<OrderShardSampler> logger)
        : base(shards, logger)
    {
        metrics.Meter.CreateObservableGauge("aspireshop.outbox.pending", () => PerShard(s => s.OutboxPending), "{message}",
            "Outbox messages not yet published to RabbitMQ (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.outbox.oldest_pending_age", () => PerShard(s => s.OutboxOldestAgeSeconds), "s",
            "Age of the oldest outbox message not yet published, 0 when none (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.orders.stored", () => PerShard(s => s.Orders), "{order}",
            "Orders stored on each order shard, as the planner estimates them (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.shard.size", () => PerShard(s => s.Bytes), "By",
            "Size of each order shard's database (tag shard).");
    }

    protected override string What => "the order shards";

    // The backlog is counted exactly (the partial index of unsent messages keeps that as small as the backlog); the
    // orders stored are the planner's estimate, kept by autovacuum, since an exact count would grow with the shard's
    // whole history (-1 until the table was first analysed: then 0).
    protected override string Query => $"""
        SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min("CreatedAt")), 0)::float8,
               (SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = '{OrderingDbContext.Tables.Orders}'::regclass),
               pg_database_size(current_database())
        FROM {OrderingDbContext.Tables.Outbox} WHERE "SentAt" IS NULL
        """;

    protected override ShardState Read(NpgsqlDataReader row) => new(row.GetInt64(0), row.GetDouble(1), row.GetInt64(2), row.GetInt64(3));
}
