using AspireShop.Hosting.Processes;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AspireShop.AppHost.Drills;

public static class ReplayPauseDrill
{
    /// <summary>
    /// A dashboard command on a PostgreSQL standby: pause its WAL replay for N seconds
    /// (<c>pg_wal_replay_pause()</c>, then <c>pg_wal_replay_resume()</c>). The standby keeps receiving WAL and keeps
    /// answering, but with data that grows older: replica lag, made on purpose, for the readers' consistency rules.
    /// </summary>
    public static IResourceBuilder<PostgresProcessResource> WithReplayPauseDrill(this IResourceBuilder<PostgresProcessResource> standby, string whatToWatch)
        => standby.WithCommand("drill-pause-replay", "Drill: pause replay for N seconds", async context =>
        {
            var seconds = context.Arguments.Get("seconds");
            var connectionString = await standby.Resource.ConnectionStringExpression.GetValueAsync(context.CancellationToken);
            await using var server = NpgsqlDataSource.Create($"{connectionString};Database=postgres");
            await server.CreateCommand("SELECT pg_wal_replay_pause()").ExecuteNonQueryAsync(context.CancellationToken);
            context.Logger.LogWarning("Drill: paused WAL replay on {Resource} for {Seconds} s.", context.ResourceName, seconds);
            long behind;
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), context.CancellationToken);
                behind = (long)(await server.CreateCommand("SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::bigint")
                    .ExecuteScalarAsync(context.CancellationToken))!;
            }
            finally
            {
                await server.CreateCommand("SELECT pg_wal_replay_resume()").ExecuteNonQueryAsync(CancellationToken.None);
            }

            context.Logger.LogWarning("Drill: resumed WAL replay on {Resource}; it was {Bytes} bytes behind.", context.ResourceName, behind);
            return CommandResults.Success($"Replay paused for {seconds} s, {behind} bytes of WAL received but not yet replayed at the end; replay resumed.");
        }, new CommandOptions
        {
            Description = "Pause this standby's WAL replay for N seconds, then resume it.",
            ConfirmationMessage = $"Pause WAL replay on this standby for the seconds given, then resume it? {whatToWatch}",
            Arguments = [DrillArguments.Seconds(30, "How long replay stays paused.")],
            ValidateArguments = DrillArguments.Within(("seconds", 1, 600)),
            IconName = "Pause",
            UpdateState = DrillArguments.WhileRunning,
        });
}
