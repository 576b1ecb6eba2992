using System.Diagnostics;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Distribution;
using Npgsql;

namespace Ordering.Api.Shards;

/// <summary>Where one shard of the ordering tables is: its Citus shard id (of <c>orders</c>; the co-located tables' shards move with it), its worker, its size.</summary>
public sealed record ShardPlacement(long ShardId, string Node, long Bytes);

/// <summary>Which shard to move where; either may be left out, and is then chosen (<see cref="ShardMoves.MoveAsync"/>).</summary>
public sealed record ShardMoveRequest(long? ShardId, string? ToNode);

/// <summary>A move done: the shard, from and to which worker (<c>host:port</c>), and how long it took.</summary>
public sealed record ShardMoveReport(long ShardId, string From, string To, double Seconds);

/// <summary>A rebalance asked for: Citus's background job (null when every worker already holds its share), and its state.</summary>
public sealed record RebalanceReport(long? JobId, string State);

/// <summary>The move was refused or failed; nothing changed (Citus cleans up a move it did not finish).</summary>
public sealed class ShardMoveFailedException(string message) : Exception(message);

/// <summary>
/// Moves order shards between Citus workers while orders keep coming, through Citus's own functions: one shard
/// (<c>citus_move_shard_placement</c>) or a rebalance (<c>citus_rebalance_start</c>, a background job on the
/// coordinator). A move copies the shard and its co-located shards (lines, outbox, inbox, mail owed) with logical
/// replication while they take writes, then blocks writes to them for the moment it takes to catch up and switch the
/// metadata; a move that fails or is cancelled leaves the old placement serving and its copy cleaned up. Citus allows
/// one move of a shard group at a time.
/// </summary>
public sealed class ShardMoves(OrdersDatabase orders)
{
    public async Task<List<ShardPlacement>> PlacementsAsync(CancellationToken cancellationToken)
    {
        await using var command = orders.DataSource.CreateCommand($"""
            SELECT shardid, nodename || ':' || nodeport, shard_size FROM citus_shards
            WHERE table_name = '{OrderingDbContext.Tables.Orders}'::regclass ORDER BY shardid
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var placements = new List<ShardPlacement>();
        while (await reader.ReadAsync(cancellationToken))
        {
            placements.Add(new ShardPlacement(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return placements;
    }

    /// <summary>
    /// Moves a shard to another worker and returns when the move is done. Without a shard, the first shard of the
    /// worker holding the most; without a worker, the active worker holding the fewest. Cancelling (the caller went away)
    /// cancels the move: the shard stays where it was.
    /// </summary>
    public async Task<ShardMoveReport> MoveAsync(ShardMoveRequest request, CancellationToken cancellationToken)
    {
        var placements = await PlacementsAsync(cancellationToken);
        var workers = await ActiveWorkersAsync(cancellationToken);
        var shard = request.ShardId is { } id
            ? placements.SingleOrDefault(p => p.ShardId == id) ?? throw new ShardMoveFailedException($"There is no order shard {id}; GET /ops/shards lists them.")
            : placements.GroupBy(p => p.Node).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Select(g => g.First()).FirstOrDefault()
                ?? throw new ShardMoveFailedException("The orders are not distributed yet.");
        var target = request.ToNode
            ?? workers.Where(w => w != shard.Node).OrderBy(w => placements.Count(p => p.Node == w)).ThenBy(w => w).FirstOrDefault()
            ?? throw new ShardMoveFailedException($"There is no other worker to move shard {shard.ShardId} to: the cluster has {workers.Count}.");
        if (!workers.Contains(target))
        {
            throw new ShardMoveFailedException($"{target} is not an active worker; the workers are {string.Join(", ", workers)}.");
        }

        if (target == shard.Node)
        {
            throw new ShardMoveFailedException($"Shard {shard.ShardId} is on {target} already.");
        }

        var (fromHost, fromPort) = Split(shard.Node);
        var (toHost, toPort) = Split(target);
        var took = Stopwatch.StartNew();
        try
        {
            await using var connection = await orders.DataSource.OpenConnectionAsync(cancellationToken);

            // Citus drops a moved shard's old copy later, in the background: a shard moved back soon after would find
            // it still on the worker and be refused, so what earlier moves left is dropped first.
            await using (var cleanup = new NpgsqlCommand("CALL citus_cleanup_orphaned_resources()", connection))
            {
                await cleanup.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var move = new NpgsqlCommand("SELECT citus_move_shard_placement($1, $2, $3, $4, $5)", connection)
            {
                // As long as the copy takes: the shard's size decides, not a timeout.
                CommandTimeout = 0,
                Parameters = { new() { Value = shard.ShardId }, new() { Value = fromHost }, new() { Value = fromPort }, new() { Value = toHost }, new() { Value = toPort } },
            };
            await move.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState != PostgresErrorCodes.QueryCanceled)
        {
            throw new ShardMoveFailedException($"Citus did not move shard {shard.ShardId} from {shard.Node} to {target}: {e.MessageText}");
        }

        return new ShardMoveReport(shard.ShardId, shard.Node, target, Math.Round(took.Elapsed.TotalSeconds, 2));
    }

    /// <summary>Starts Citus's rebalancer (a background job on the coordinator, which outlives this request) and returns at once.</summary>
    public async Task<RebalanceReport> StartRebalanceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var start = orders.DataSource.CreateCommand("SELECT citus_rebalance_start()");
            var job = await start.ExecuteScalarAsync(cancellationToken) is long id ? id : (long?)null;
            return job is null ? new RebalanceReport(null, "balanced") : await RebalanceStatusAsync(cancellationToken) ?? new RebalanceReport(job, "scheduled");
        }
        catch (PostgresException e) when (e.SqlState != PostgresErrorCodes.QueryCanceled)
        {
            throw new ShardMoveFailedException($"Citus did not start a rebalance: {e.MessageText}");
        }
    }

    /// <summary>The latest rebalance job and its state (scheduled, running, finished, failed...), or null if none ran.</summary>
    public async Task<RebalanceReport?> RebalanceStatusAsync(CancellationToken cancellationToken)
    {
        await using var status = orders.DataSource.CreateCommand("SELECT job_id, state::text FROM citus_rebalance_status() ORDER BY job_id DESC LIMIT 1");
        await using var reader = await status.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new RebalanceReport(reader.GetInt64(0), reader.GetString(1)) : null;
    }

    private async Task<List<string>> ActiveWorkersAsync(CancellationToken cancellationToken)
    {
        await using var command = orders.DataSource.CreateCommand(
            "SELECT nodename || ':' || nodeport FROM pg_dist_node WHERE isactive AND noderole = 'primary' AND shouldhaveshards ORDER BY 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var workers = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            workers.Add(reader.GetString(0));
        }

        return workers;
    }

    private static (string Host, int Port) Split(string node)
    {
        var colon = node.LastIndexOf(':');
        return (node[..colon], int.Parse(node[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
