using System.Data.Common;
using System.Diagnostics.Metrics;
using Catalog.Api.Ordering.Data;
using Microsoft.EntityFrameworkCore;

namespace Catalog.Api.Operations;

/// <summary>
/// Samples, every few seconds, what only the primary knows: the outbox backlog (count and oldest message's age) and
/// each streaming standby's replay lag (pg_stat_replication). Gauges report the last sample, so a scrape costs no
/// query, and every API replica reports the same values (alert rules take the max).
/// </summary>
public sealed class DatabaseStateSampler : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger<DatabaseStateSampler> _logger;
    private (long Count, double OldestAgeSeconds) _outbox;
    private IReadOnlyList<Measurement<double>> _replicaLag = [];

    public DatabaseStateSampler(IServiceScopeFactory scopes, CatalogApiMetrics metrics, ILogger<DatabaseStateSampler> logger)
    {
        _scopes = scopes;
        _logger = logger;
        metrics.Meter.CreateObservableGauge("aspireshop.outbox.pending", () => _outbox.Count, "{message}",
            "Outbox messages not yet published to RabbitMQ.");
        metrics.Meter.CreateObservableGauge("aspireshop.outbox.oldest_pending_age", () => _outbox.OldestAgeSeconds, "s",
            "Age of the oldest outbox message not yet published (0 when none).");
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

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var connection = scope.ServiceProvider.GetRequiredService<OrderingDbContext>().Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);

        await using (var outbox = connection.CreateCommand())
        {
            outbox.CommandText = """
                SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min("CreatedAt")), 0)::float8
                FROM ordering.outbox WHERE "SentAt" IS NULL
                """;
            await using var reader = await outbox.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            _outbox = (reader.GetInt64(0), reader.GetDouble(1));
        }

        await using (var replication = connection.CreateCommand())
        {
            // replay_lag is NULL once a standby has replayed everything and the primary is idle: that is no lag.
            replication.CommandText = "SELECT application_name, COALESCE(EXTRACT(EPOCH FROM replay_lag), 0)::float8 FROM pg_stat_replication";
            await using var reader = await replication.ExecuteReaderAsync(cancellationToken);
            var lag = new List<Measurement<double>>();
            while (await reader.ReadAsync(cancellationToken))
            {
                lag.Add(new Measurement<double>(reader.GetDouble(1), new KeyValuePair<string, object?>("standby", reader.GetString(0))));
            }

            _replicaLag = lag;
        }
    }
}
