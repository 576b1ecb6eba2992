namespace AspireShop.AppHost.Infrastructure;

/// <summary>A PostgreSQL login role a service connects as, with its password parameter.</summary>
public sealed record DatabaseRole(string Name, IResourceBuilder<ParameterResource> Password);

/// <summary>
/// Where the AppHost runs the PostgreSQL servers itself (processes mode), every service connects as a role of its
/// own with only the privileges it uses, never as the superuser: Catalog.Api owns the catalog database (it migrates
/// the catalog schema and reads replication state, <c>pg_monitor</c>); Ordering.Api owns the order shards' databases
/// and the <c>sharding</c> schema it creates in the catalog database, and reads the catalog's tables (prices, the
/// stock audit); Ordering.Worker reads the catalog and changes its rows (stock and the stock ledger: insert and update,
/// no delete, no schema change), reads the shard map, and reads and writes the shards' rows (no schema change). Each
/// database is closed to every other role. The grants are default privileges of the owning role, given before the
/// owner's migrations create the tables, so they hold for every table a migration adds. Elsewhere the roles are the
/// operator's to create (README, Deploy).
/// </summary>
public sealed class ServiceDatabaseRoles
{
    private ServiceDatabaseRoles(IDistributedApplicationBuilder builder)
    {
        DatabaseRole Role(string service) => new(service.Replace('-', '_'),
            builder.AddParameter($"{service}-db-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true));
        CatalogApi = Role("catalog-api");
        OrderingApi = Role("ordering-api");
        OrderingWorker = Role("ordering-worker");
    }

    public DatabaseRole CatalogApi { get; }

    public DatabaseRole OrderingApi { get; }

    public DatabaseRole OrderingWorker { get; }

    /// <summary>The roles, with generated passwords, where the AppHost runs the servers; null elsewhere.</summary>
    public static ServiceDatabaseRoles? For(IDistributedApplicationBuilder builder, InfrastructureSettings infrastructure)
        => infrastructure.RunsLocalProcesses ? new ServiceDatabaseRoles(builder) : null;

    /// <summary>The roles and grants of the catalog database's server, run in <paramref name="database"/>.</summary>
    public ReferenceExpression CatalogServer(string database)
    {
        var sql = new ReferenceExpressionBuilder();
        CreateRoles(sql, CatalogApi, OrderingApi, OrderingWorker);
        sql.AppendLiteral($"""
            GRANT pg_monitor TO {CatalogApi.Name};

            REVOKE ALL ON DATABASE "{database}" FROM PUBLIC;

            GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {CatalogApi.Name}, {OrderingApi.Name}, {OrderingWorker.Name};

            ALTER DATABASE "{database}" OWNER TO {CatalogApi.Name};

            GRANT CREATE ON DATABASE "{database}" TO {OrderingApi.Name};

            ALTER DEFAULT PRIVILEGES FOR ROLE {CatalogApi.Name} IN SCHEMA public GRANT SELECT ON TABLES TO {OrderingApi.Name}, {OrderingWorker.Name};

            ALTER DEFAULT PRIVILEGES FOR ROLE {CatalogApi.Name} IN SCHEMA public GRANT INSERT, UPDATE ON TABLES TO {OrderingWorker.Name};

            ALTER DEFAULT PRIVILEGES FOR ROLE {OrderingApi.Name} GRANT USAGE ON SCHEMAS TO {OrderingWorker.Name};

            ALTER DEFAULT PRIVILEGES FOR ROLE {OrderingApi.Name} GRANT SELECT ON TABLES TO {OrderingWorker.Name};
            """);
        return sql.Build();
    }

    /// <summary>The roles and grants of an order shard's server, run in <paramref name="database"/>.</summary>
    public ReferenceExpression OrderShardServer(string database)
    {
        var sql = new ReferenceExpressionBuilder();
        CreateRoles(sql, OrderingApi, OrderingWorker);
        sql.AppendLiteral($"""
            REVOKE ALL ON DATABASE "{database}" FROM PUBLIC;

            GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {OrderingApi.Name}, {OrderingWorker.Name};

            ALTER DATABASE "{database}" OWNER TO {OrderingApi.Name};

            ALTER DEFAULT PRIVILEGES FOR ROLE {OrderingApi.Name} GRANT USAGE ON SCHEMAS TO {OrderingWorker.Name};

            ALTER DEFAULT PRIVILEGES FOR ROLE {OrderingApi.Name} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {OrderingWorker.Name};
            """);
        return sql.Build();
    }

    // The generated passwords have letters and digits only, so they need no quoting inside the literal.
    private static void CreateRoles(ReferenceExpressionBuilder sql, params DatabaseRole[] roles)
    {
        foreach (var role in roles)
        {
            sql.AppendLiteral($"CREATE ROLE {role.Name} LOGIN PASSWORD '");
            sql.Append($"{role.Password.Resource}");
            sql.AppendLiteral("';\n\n");
        }
    }
}
