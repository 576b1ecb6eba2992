using Catalog.Api.Catalog.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Tests.Ordering;

namespace Tests.WholeGraph;

/// <summary>
/// Each service connects to PostgreSQL as its own role (AppHost's ServiceDatabaseRoles), which can do what the
/// service does and cannot read or change what another service owns.
/// </summary>
[Collection(ShopGraphCollection.Name)]
public sealed class ServiceDatabaseRoleTests(ShopGraphFixture graph)
{
    [Theory]
    [InlineData("catalog-api", "catalog_api")]
    [InlineData("ordering-api", "ordering_api")]
    [InlineData("ordering-worker", "ordering_worker")]
    public async Task EveryServiceConnectsAsItsOwnRoleNeverAsTheSuperuser(string service, string role)
    {
        foreach (var connectionStrings in await graph.App.ReplicaConnectionStringsAsync(service))
        {
            var databases = connectionStrings.Values.Where(value => value.Contains("Database=", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(databases);
            Assert.All(databases, database => Assert.Equal(role, new NpgsqlConnectionStringBuilder(database).Username));
        }
    }

    [Fact]
    public async Task TheCatalogsRoleCannotReadTheShardMapNorReachTheOrderShards()
    {
        await using var catalog = await ConnectAsync("catalogdb", "catalog-api");
        Assert.True(await ScalarAsync<long>(catalog, "SELECT count(*) FROM products") > 0);

        await AssertRefusedAsync(catalog, "SELECT count(*) FROM sharding.bucket_map");
        var problem = await Assert.ThrowsAsync<PostgresException>(() => ConnectAsync("ordersdb-shard1", "catalog-api"));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, problem.SqlState);
    }

    [Fact]
    public async Task OrderIntakesRoleReadsTheCatalogButCannotChangeIt()
    {
        await using var catalog = await ConnectAsync("catalogdb", "ordering-api");
        Assert.True(await ScalarAsync<long>(catalog, "SELECT count(*) FROM products") > 0);

        await AssertRefusedAsync(catalog, """UPDATE products SET "Price" = "Price" WHERE "Id" = 1""");
        await AssertRefusedAsync(catalog, "DELETE FROM stock_reservations");
        await AssertRefusedAsync(catalog, "CREATE TABLE public.intruder (id int)");
    }

    [Fact]
    public async Task TheWorkersRoleChangesRowsItDecidesAndNothingElse()
    {
        await using var catalog = await ConnectAsync("catalogdb", "ordering-worker");
        await using (var reserve = await catalog.BeginTransactionAsync())
        {
            await using var update = new NpgsqlCommand("""UPDATE products SET "AvailableStock" = "AvailableStock" WHERE "Id" = 1""", catalog, reserve);
            await update.ExecuteNonQueryAsync();
            await reserve.RollbackAsync();
        }

        await AssertRefusedAsync(catalog, """DELETE FROM products WHERE "Id" = -1""");
        await AssertRefusedAsync(catalog, """ALTER TABLE products ADD COLUMN intruder int""");
        await AssertRefusedAsync(catalog, "CREATE TABLE public.intruder (id int)");
        await AssertRefusedAsync(catalog, """UPDATE sharding.bucket_map SET "Shard" = "Shard" WHERE false""");

        await using var shard = await ConnectAsync("ordersdb-shard1", "ordering-worker");
        Assert.True(await ScalarAsync<long>(shard, "SELECT count(*) FROM ordering.orders") >= 0);
        await AssertRefusedAsync(shard, "DROP TABLE ordering.orders");
        await AssertRefusedAsync(shard, "CREATE TABLE ordering.intruder (id int)");
        await AssertRefusedAsync(shard, "TRUNCATE ordering.orders");
    }

    /// <summary>
    /// Catalog.Api and Ordering.Api migrate the catalog database at start, in either order. Ordering.Api's schema is
    /// closed to the catalog's role, and the catalog's migrations once failed on every retry when it existed before
    /// they ran (a graph whose Ordering.Api started first never became healthy). Here they run as Catalog.Api runs
    /// them, as its role, on a new database where Ordering.Api's role has made its schema.
    /// </summary>
    [Fact]
    public async Task TheCatalogMigratesAsItsRoleAfterOrderIntakeMadeItsSchemaFirst()
    {
        var database = $"migration_order_{Guid.NewGuid():N}";
        var superuser = new NpgsqlConnectionStringBuilder(await graph.App.GetConnectionStringAsync("catalogdb")) { Pooling = false };
        await ExecuteAsync(superuser.ConnectionString, $"CREATE DATABASE {database} OWNER catalog_api");
        try
        {
            await ExecuteAsync(new NpgsqlConnectionStringBuilder(superuser.ConnectionString) { Database = database }.ConnectionString,
                "CREATE SCHEMA sharding AUTHORIZATION ordering_api");

            var asCatalogRole = new NpgsqlConnectionStringBuilder(await ConnectionStringAsync("catalogdb", "catalog-api")) { Database = database };
            await using var catalog = new CatalogDbContext(new DbContextOptionsBuilder<CatalogDbContext>().UseNpgsql(asCatalogRole.ConnectionString).Options);
            await CatalogSchema.MigrateAsync(catalog, CancellationToken.None);

            Assert.Empty(await catalog.Database.GetPendingMigrationsAsync());
            Assert.Equal(0, await catalog.Database.SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM public.stock_reservations").SingleAsync());
        }
        finally
        {
            await ExecuteAsync(superuser.ConnectionString, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    /// <summary>A connection to the database as the service's role, with the password the AppHost generated for it.</summary>
    private async Task<NpgsqlConnection> ConnectAsync(string database, string service)
    {
        var connection = new NpgsqlConnection(await ConnectionStringAsync(database, service));
        await connection.OpenAsync();
        return connection;
    }

    private async Task<string> ConnectionStringAsync(string database, string service)
    {
        var password = await SignedTestTokens.ParameterValueAsync(graph.App, $"{service}-db-password");
        return new NpgsqlConnectionStringBuilder(database.StartsWith("ordersdb-", StringComparison.Ordinal)
            ? await OrderShardDatabases.ConnectionStringAsync(graph.App, int.Parse(database["ordersdb-shard".Length..]))
            : await graph.App.GetConnectionStringAsync(database))
        {
            Username = service.Replace('-', '_'),
            Password = password,
            Pooling = false,
        }.ConnectionString;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task AssertRefusedAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var problem = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.True(problem.SqlState is PostgresErrorCodes.InsufficientPrivilege, $"{sql}: {problem.SqlState} {problem.MessageText}");
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
