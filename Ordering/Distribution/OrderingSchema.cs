using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AspireShop.Ordering.Distribution;

/// <summary>Brings the ordering schema up to date: its migrations create the tables and distribute them over the cluster.</summary>
public static class OrderingSchema
{
    /// <summary>The session advisory lock under which a starting process migrates: one at a time, the others find it done.</summary>
    private const long SchemaLock = 7261735;

    public static async Task EnsureAsync(OrdersDatabase orders, CancellationToken cancellationToken)
    {
        // EF's own migration lock still let two replicas starting together apply the same migration ("already
        // exists", then a retry). One session lock makes the whole setup one process at a time; a process that dies
        // releases it with its session.
        await using var lockSession = await orders.DataSource.OpenConnectionAsync(cancellationToken);
        await RunAsync(lockSession, $"SELECT pg_advisory_lock({SchemaLock})", cancellationToken);
        try
        {
            await using var db = orders.CreateContext();
            await db.Database.MigrateAsync(cancellationToken);
        }
        finally
        {
            // Released before the connection goes back to the pool, which would otherwise keep it held.
            await RunAsync(lockSession, $"SELECT pg_advisory_unlock({SchemaLock})", CancellationToken.None);
        }
    }

    private static async Task RunAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
