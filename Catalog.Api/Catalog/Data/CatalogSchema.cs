using Microsoft.EntityFrameworkCore;

namespace Catalog.Api.Catalog.Data;

/// <summary>How a starting Catalog.Api brings the catalog's schema up to date: its migrations, then the seed.</summary>
public static class CatalogSchema
{
    /// <summary>
    /// The session lock under which a replica migrates and seeds. Ordering.Api takes its schema lock
    /// (OrderShardSetup) in the same database: the two ids must differ.
    /// </summary>
    private const long SchemaLock = 7261734;

    /// <summary>
    /// Applies the pending migrations and the seed, one replica at a time. EF's own migration lock is taken per
    /// migration: with two migrations pending, a replica that waited for it went on to apply the one it had planned,
    /// already applied by another ("relation already exists"). One session lock for the whole run makes replicas
    /// starting together find the work done; a replica that dies releases it with its session.
    /// </summary>
    public static async Task MigrateAsync(CatalogDbContext catalog, CancellationToken cancellationToken)
    {
        // EF runs the migrations on this connection, opened here so the lock and the migrations share one session.
        await catalog.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await catalog.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({SchemaLock})", cancellationToken);
            try
            {
                await catalog.Database.MigrateAsync(cancellationToken);
            }
            finally
            {
                // Released before the connection goes back to the pool, which would otherwise keep it held.
                await catalog.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({SchemaLock})", CancellationToken.None);
            }
        }
        finally
        {
            await catalog.Database.CloseConnectionAsync();
        }
    }
}
