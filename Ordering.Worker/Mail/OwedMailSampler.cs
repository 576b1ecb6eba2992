using System.Diagnostics.Metrics;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults;
using Ordering.Worker.Orders;

namespace Ordering.Worker.Mail;

/// <summary>
/// Samples, every few seconds, the mails owed on each order shard (count and the oldest one's age) for the
/// <c>aspireshop.mail.owed</c> gauges: a mail server that is down, or none configured, shows as a growing debt.
/// </summary>
public sealed class OwedMailSampler : PeriodicSampler
{
    private readonly OrderShardMap _shards;
    private IReadOnlyList<ShardSample> _samples = [];

    private sealed record ShardSample(KeyValuePair<string, object?> Shard, long Owed, double OldestAgeSeconds);

    public OwedMailSampler(OrderShardMap shards, OrderingWorkerMetrics metrics, ILogger<OwedMailSampler> logger)
        : base(logger)
    {
        _shards = shards;
        metrics.Meter.CreateObservableGauge("aspireshop.mail.owed", () => _samples.Select(s => new Measurement<long>(s.Owed, s.Shard)), "{mail}",
            "Mails owed to buyers for decided orders, not yet sent (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.mail.oldest_owed_age", () => _samples.Select(s => new Measurement<double>(s.OldestAgeSeconds, s.Shard)), "s",
            "Age of the oldest mail owed, 0 when none (tag shard).");
    }

    protected override string What => "the mails owed";

    protected override async Task SampleAsync(CancellationToken cancellationToken)
    {
        var samples = new List<ShardSample>();
        foreach (var shard in _shards.Shards)
        {
            await using var command = shard.DataSource.CreateCommand($"""
                SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min("DecidedAt")), 0)::float8 FROM {OrderingDbContext.Tables.MailOwed}
                """);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            samples.Add(new ShardSample(new("shard", shard.Name), reader.GetInt64(0), reader.GetDouble(1)));
        }

        _samples = samples;
    }
}
