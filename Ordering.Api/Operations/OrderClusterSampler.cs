using System.Diagnostics.Metrics;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Distribution;
using AspireShop.ServiceDefaults;

namespace Ordering.Api.Operations;

/// <summary>
/// Samples, every few seconds, what only the orders database knows: the outbox backlog (count and oldest message's
/// age), and per Citus worker the order shards it holds and their size, so skew between workers is visible (and what a
/// rebalance evens out). Every API replica reports the same values (alert rules take the max).
/// </summary>
public sealed class OrderClusterSampler : PeriodicSampler
{
    private readonly OrdersDatabase _orders;
    private (long Pending, double OldestAgeSeconds) _outbox;
    private IReadOnlyList<WorkerSample> _workers = [];

    private sealed record WorkerSample(KeyValuePair<string, object?> Node, long Shards, long Bytes);

    public OrderClusterSampler(OrdersDatabase orders, OrderingApiMetrics metrics, ILogger<OrderClusterSampler> logger)
        : base(logger)
    {
        _orders = orders;
        metrics.Meter.CreateObservableGauge("aspireshop.outbox.pending", () => _outbox.Pending, "{message}",
            "Outbox messages not yet published to RabbitMQ.");
        metrics.Meter.CreateObservableGauge("aspireshop.outbox.oldest_pending_age", () => _outbox.OldestAgeSeconds, "s",
            "Age of the oldest outbox message not yet published, 0 when none.");
        metrics.Meter.CreateObservableGauge("aspireshop.orders.worker.shards", () => Per(s => s.Shards), "{shard}",
            "Shards of the orders table each Citus worker holds (tag node).");
        metrics.Meter.CreateObservableGauge("aspireshop.orders.worker.size", () => Per(s => s.Bytes), "By",
            "Size of the ordering tables' shards on each Citus worker (tag node).");
    }

    private IEnumerable<Measurement<long>> Per(Func<WorkerSample, long> value)
        => _workers.Select(sample => new Measurement<long>(value(sample), sample.Node));

    protected override string What => "the orders cluster";

    protected override async Task SampleAsync(CancellationToken cancellationToken)
    {
        // The backlog is counted exactly (the partial index of unsent messages keeps that as small as the backlog).
        // Citus reads the shard sizes from the workers.
        await using var batch = _orders.DataSource.CreateBatch();
        batch.BatchCommands.Add(new($"""
            SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min("CreatedAt")), 0)::float8
            FROM {OrderingDbContext.Tables.Outbox} WHERE "SentAt" IS NULL
            """));
        batch.BatchCommands.Add(new($"""
            SELECT nodename || ':' || nodeport, count(*) FILTER (WHERE table_name = '{OrderingDbContext.Tables.Orders}'::regclass),
                   sum(shard_size)::bigint
            FROM citus_shards WHERE table_name::text LIKE '{OrderingDbContext.Schema}.%' GROUP BY 1 ORDER BY 1
            """));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var outbox = (reader.GetInt64(0), reader.GetDouble(1));
        await reader.NextResultAsync(cancellationToken);
        var workers = new List<WorkerSample>();
        while (await reader.ReadAsync(cancellationToken))
        {
            workers.Add(new WorkerSample(new("node", reader.GetString(0)), reader.GetInt64(1), reader.GetInt64(2)));
        }

        (_outbox, _workers) = (outbox, workers);
    }
}
