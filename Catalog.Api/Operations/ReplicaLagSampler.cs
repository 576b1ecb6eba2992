using System.Diagnostics.Metrics;
using AspireShop.ServiceDefaults;
using Catalog.Api.Catalog.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Catalog.Api.Operations;

/// <summary>
/// Samples, every few seconds, each streaming standby's replay lag behind the catalog's primary
/// (<c>pg_stat_replication</c>, which only the primary knows). Every API replica reports the same values (alert rules
/// take the max).
/// </summary>
public sealed class ReplicaLagSampler : PeriodicSampler
{
    private readonly IServiceScopeFactory _scopes;
    private IReadOnlyList<Measurement<double>> _replicaLag = [];

    public ReplicaLagSampler(IServiceScopeFactory scopes, CatalogApiMetrics metrics, ILogger<ReplicaLagSampler> logger)
        : base(logger)
    {
        _scopes = scopes;
        metrics.Meter.CreateObservableGauge("aspireshop.postgres.replica_lag", () => _replicaLag, "s",
            "Replay lag of each streaming standby behind the primary (tag standby).");
    }

    protected override string What => "the catalog's replication";

    protected override async Task SampleAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var primary = (NpgsqlConnection)scope.ServiceProvider.GetRequiredService<CatalogDbContext>().Database.GetDbConnection();
        await primary.OpenAsync(cancellationToken);
        // replay_lag is NULL once a standby has replayed everything and the primary is idle: that is no lag.
        await using var replication = new NpgsqlCommand(
            "SELECT application_name, COALESCE(EXTRACT(EPOCH FROM replay_lag), 0)::float8 FROM pg_stat_replication", primary);
        await using var reader = await replication.ExecuteReaderAsync(cancellationToken);
        var lag = new List<Measurement<double>>();
        while (await reader.ReadAsync(cancellationToken))
        {
            lag.Add(new Measurement<double>(reader.GetDouble(1), new KeyValuePair<string, object?>("standby", reader.GetString(0))));
        }

        _replicaLag = lag;
    }
}
