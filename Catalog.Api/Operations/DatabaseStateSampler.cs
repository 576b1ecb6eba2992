using System.Data.Common;
using System.Diagnostics.Metrics;
using AspireShop.Contracts.Sharding;
using Catalog.Api.Catalog.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Catalog.Api.Operations;

/// <summary>
/// Samples, every few seconds, what only the primaries know: per order shard the outbox backlog (count and oldest
/// message's age), the orders stored and the database's size, so skew between shards is visible; and each streaming
/// standby's replay lag (pg_stat_replication on the catalog's primary and on every shard's). Gauges report the last
/// sample, so a scrape costs no query, and every API replica reports the same values (alert rules take the max).
/// </summary>
public sealed class DatabaseStateSampler : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly IServiceScopeFactory _scopes;
    private readonly OrderShardMap _shards;
    private readonly ILogger<DatabaseStateSampler> _logger;
    private IReadOnlyList<ShardSample> _samples = [];
    private IReadOnlyList<Measurement<double>> _replicaLag = [];

    private sealed record ShardSample(KeyValuePair<string, object?> Shard, long OutboxPending, double OutboxOldestAgeSeconds, long Orders, long Bytes);

    public DatabaseStateSampler(IServiceScopeFactory scopes, OrderShardMap shards, CatalogApiMetrics metrics, ILogger<DatabaseStateSampler> logger)
    {
        _scopes = scopes;
        _shards = shards;
        _logger = logger;
        metrics.Meter.CreateObservableGauge("aspireshop.outbox.pending", () => Per(s => s.OutboxPending), "{message}",
            "Outbox messages not yet published to RabbitMQ (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.outbox.oldest_pending_age", () => Per(s => s.OutboxOldestAgeSeconds), "s",
            "Age of the oldest outbox message not yet published, 0 when none (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.orders.stored", () => Per(s => s.Orders), "{order}",
            "Orders stored on each order shard (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.shard.size", () => Per(s => s.Bytes), "By",
            "Size of each order shard's database (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.postgres.replica_lag", () => _replicaLag, "s",
            "Replay lag of each streaming standby behind the primary (tag standby).");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await SampleAsync(stoppingToken);
            }
            catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException)
            {
                // The database is down or starting; the health checks say so. The gauges keep the last sample.
                _logger.LogDebug("Sampling the outbox and replication state failed: {Problem}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private IEnumerable<Measurement<T>> Per<T>(Func<ShardSample, T> value) where T : struct
        => _samples.Select(sample => new Measurement<T>(value(sample), sample.Shard));

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        var samples = new List<ShardSample>();
        var lag = new List<Measurement<double>>();
        foreach (var shard in _shards.Shards)
        {
            await using var connection = await shard.DataSource.OpenConnectionAsync(cancellationToken);
            // An exact count: cheap at this shop's size; at millions of orders per shard, pg_class.reltuples instead.
            await using var command = new NpgsqlCommand("""
                SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min("CreatedAt")), 0)::float8,
                       (SELECT count(*) FROM ordering.orders), pg_database_size(current_database())
                FROM ordering.outbox WHERE "SentAt" IS NULL
                """, connection);
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                samples.Add(new ShardSample(new("shard", shard.Name), reader.GetInt64(0), reader.GetDouble(1), reader.GetInt64(2), reader.GetInt64(3)));
            }

            lag.AddRange(await ReplicaLagAsync(connection, cancellationToken));
        }

        await using var scope = _scopes.CreateAsyncScope();
        var catalog = (NpgsqlConnection)scope.ServiceProvider.GetRequiredService<CatalogDbContext>().Database.GetDbConnection();
        await catalog.OpenAsync(cancellationToken);
        lag.AddRange(await ReplicaLagAsync(catalog, cancellationToken));

        _samples = samples;
        _replicaLag = lag;
    }

    private static async Task<List<Measurement<double>>> ReplicaLagAsync(NpgsqlConnection primary, CancellationToken cancellationToken)
    {
        // replay_lag is NULL once a standby has replayed everything and the primary is idle: that is no lag.
        await using var replication = new NpgsqlCommand(
            "SELECT application_name, COALESCE(EXTRACT(EPOCH FROM replay_lag), 0)::float8 FROM pg_stat_replication", primary);
        await using var reader = await replication.ExecuteReaderAsync(cancellationToken);
        var lag = new List<Measurement<double>>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lag.Add(new Measurement<double>(reader.GetDouble(1), new KeyValuePair<string, object?>("standby", reader.GetString(0))));
        }

        return lag;
    }
}
