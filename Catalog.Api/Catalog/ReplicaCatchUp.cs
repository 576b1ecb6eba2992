using System.Diagnostics;
using Catalog.Api.Catalog.Data;
using Microsoft.EntityFrameworkCore;

namespace Catalog.Api.Catalog;

/// <summary>
/// Waits, after a commit on the primary, until every connected standby has replayed it (pg_stat_replication),
/// so that a cache entry invalidated next is refilled from a replica that already has the change, never with the
/// old row. Bounded: a standby that lags further is logged and the invalidation goes ahead.
/// </summary>
public sealed class ReplicaCatchUp(ILogger<ReplicaCatchUp> logger)
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(2);

    public async Task WaitForReplicasAsync(CatalogDbContext primary, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var commitLsn = await primary.Database
            .SqlQueryRaw<string>("SELECT pg_current_wal_lsn()::text AS \"Value\"")
            .SingleAsync(cancellationToken);

        while (true)
        {
            var behind = await primary.Database
                .SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM pg_stat_replication WHERE replay_lsn IS NULL OR replay_lsn < {commitLsn}::pg_lsn")
                .SingleAsync(cancellationToken);
            if (behind == 0)
            {
                return;
            }

            if (clock.Elapsed > MaxWait)
            {
                logger.LogWarning("{Count} standby(s) have not replayed {Lsn} after {Elapsed}; invalidating the cache anyway.",
                    behind, commitLsn, clock.Elapsed);
                return;
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }
}
