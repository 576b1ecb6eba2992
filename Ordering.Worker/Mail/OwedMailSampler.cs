using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;
using Npgsql;
using Ordering.Worker.Orders;

namespace Ordering.Worker.Mail;

/// <summary>
/// Samples, every few seconds, the mails owed on each order shard (count and the oldest one's age) for the
/// <c>aspireshop.mail.owed</c> gauges: a mail server that is down, or none configured, shows as a growing debt.
/// </summary>
public sealed class OwedMailSampler : PerShardSampler<OwedMailSampler.Owed>
{
    public sealed record Owed(long Mails, double OldestAgeSeconds);

    public OwedMailSampler(OrderShardMap shards, OrderingWorkerMetrics metrics, ILogger<OwedMailSampler> logger)
        : base(shards, logger)
    {
        metrics.Meter.CreateObservableGauge("aspireshop.mail.owed", () => PerShard(owed => owed.Mails), "{mail}",
            "Mails owed to buyers for decided orders, not yet sent (tag shard).");
        metrics.Meter.CreateObservableGauge("aspireshop.mail.oldest_owed_age", () => PerShard(owed => owed.OldestAgeSeconds), "s",
            "Age of the oldest mail owed, 0 when none (tag shard).");
    }

    protected override string What => "the mails owed";

    protected override string Query => $"""
        SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min("DecidedAt")), 0)::float8 FROM {OrderingDbContext.Tables.MailOwed}
        """;

    protected override Owed Read(NpgsqlDataReader row) => new(row.GetInt64(0), row.GetDouble(1));
}
