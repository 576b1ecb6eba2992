using System.Runtime.Versioning;
using AspireShop.Hosting.Processes;

namespace AspireShop.AppHost.Infrastructure;

/// <summary>
/// A PostgreSQL server as the AppHost declares it, however it runs (<see cref="ServerModes.RunAs(IResourceBuilder{PostgresServerResource}, InfrastructureSettings)"/>):
/// databases and read replicas are added the same way to Aspire's container, to a local process or to an existing
/// server, where they are only connection strings.
/// </summary>
public abstract class PostgresServer
{
    /// <summary>
    /// Connection limit of every PostgreSQL server (primaries and standbys alike: a standby refuses to run with a lower
    /// one than its primary). The default, 100, ran out under the load test's 128 concurrent orders: each of the two
    /// API and two worker processes' Npgsql pools may grow to 100 connections per database in a burst.
    /// </summary>
    public const int MaxConnections = 300;

    /// <summary>
    /// The settings every PostgreSQL server runs with, in every mode. Beyond the connection limit: room for write load
    /// (WAL may grow to 2 GB and checkpoints come every 15 minutes rather than every 1 GB / 5 minutes, so a burst of
    /// orders does not force checkpoints and full-page writes) and <c>pg_stat_statements</c> loaded, so the numbers in
    /// docs/benchmarks.md can be explained statement by statement. Durability is not traded: fsync and synchronous
    /// commit stay on.
    /// </summary>
    public static readonly IReadOnlyList<string> Settings =
    [
        $"max_connections={MaxConnections}",
        "shared_preload_libraries=pg_stat_statements",
        "max_wal_size=2GB",
        "checkpoint_timeout=15min",
    ];

    /// <summary><see cref="Settings"/> as <c>postgres</c> command-line options, for the container entrypoints.</summary>
    public static string CommandLineSettings => string.Join(' ', Settings.Select(setting => $"-c {setting}"));

    public abstract PostgresDatabase AddDatabase(string name, string databaseName);

    /// <summary>
    /// Adds <paramref name="standbys"/> hot standbys of this server (<c>name-replicaN</c>) and one connection string,
    /// <paramref name="name"/>, that reads <paramref name="databaseName"/> from them (see
    /// <see cref="ReadReplicaConnectionString"/>). <paramref name="configureLocal"/> is applied to each standby that runs
    /// as a local process (the drills that act on a process).
    /// </summary>
    public abstract PostgresDatabase AddReadReplicas(
        string name, string databaseName, int standbys, Action<IResourceBuilder<PostgresProcessResource>>? configureLocal = null);

    /// <summary>
    /// Runs <paramref name="sql"/> in <paramref name="databaseName"/> before the server first accepts connections,
    /// where the AppHost runs the server as a local process (<see cref="ServiceDatabaseRoles"/>); elsewhere nothing.
    /// </summary>
    public virtual PostgresServer Initialise(string databaseName, ReferenceExpression? sql) => this;

    internal sealed class InContainer(IResourceBuilder<PostgresServerResource> container, IResourceBuilder<ParameterResource> replicationPassword) : PostgresServer
    {
        public override PostgresDatabase AddDatabase(string name, string databaseName)
            => new(container.AddDatabase(name, databaseName).AsConnectionString());

        public override PostgresDatabase AddReadReplicas(
            string name, string databaseName, int standbys, Action<IResourceBuilder<PostgresProcessResource>>? configureLocal = null)
        {
            var builder = container.ApplicationBuilder;
            var containers = Enumerable.Range(1, standbys)
                .Select(n => builder.AddPostgresStandbyContainer($"{container.Resource.Name}-replica{n}", container, replicationPassword))
                .ToList();
            return new(builder.AddReadReplicaConnectionString(
                name, container, containers, PostgresStandbyContainerResource.EndpointName,
                container.Resource.UserNameReference, container.Resource.PasswordParameter, databaseName).AsConnectionString());
        }
    }

    [UnsupportedOSPlatform("windows")]
    internal sealed class AsLocalProcess(IResourceBuilder<PostgresProcessResource> process) : PostgresServer
    {
        public override PostgresDatabase AddDatabase(string name, string databaseName)
        {
            var endpoint = process.Resource.Endpoint;
            return new(process.AddDatabase(name, databaseName).AsConnectionString(), role => ReferenceExpression.Create(
                $"Host={endpoint.Property(EndpointProperty.Host)};Port={endpoint.Property(EndpointProperty.Port)};Username={role.Name};Password={role.Password.Resource};Database={databaseName}"));
        }

        public override PostgresServer Initialise(string databaseName, ReferenceExpression? sql)
        {
            if (sql is not null)
            {
                process.WithInitialisationSql(databaseName, sql);
            }

            return this;
        }

        public override PostgresDatabase AddReadReplicas(
            string name, string databaseName, int standbys, Action<IResourceBuilder<PostgresProcessResource>>? configureLocal = null)
        {
            var processes = Enumerable.Range(1, standbys).Select(n =>
            {
                var standby = process.AddStandby($"{process.Resource.Name}-replica{n}");
                configureLocal?.Invoke(standby);
                return standby;
            }).ToList();
            return new(process.ApplicationBuilder.AddReadReplicaConnectionString(
                    name, process, processes, PostgresProcessResource.EndpointName,
                    ReferenceExpression.Create($"{PostgresProcessResource.SuperUser}"), process.Resource.Password, databaseName).AsConnectionString(),
                role => ReadReplicaConnectionString.Expression(
                    [.. processes.Select(standby => standby.Resource.Endpoint), process.Resource.Endpoint],
                    ReferenceExpression.Create($"{role.Name}"), role.Password.Resource, databaseName));
        }
    }

    /// <summary>A server that already exists: its databases are connection strings, secret parameters when deployed.</summary>
    internal sealed class Existing(IDistributedApplicationBuilder builder) : PostgresServer
    {
        public override PostgresDatabase AddDatabase(string name, string databaseName)
            => new(builder.AddConnectionString(name));

        public override PostgresDatabase AddReadReplicas(
            string name, string databaseName, int standbys, Action<IResourceBuilder<PostgresProcessResource>>? configureLocal = null)
            => new(builder.AddConnectionString(name));
    }
}

/// <summary>
/// A database as services reference it: the resource they wait for (its connection string that of the server's
/// administrator, or the one given), and, where the AppHost runs the server, the connection string of a service's own
/// role (<see cref="ServiceDatabaseRoles"/>).
/// </summary>
public sealed class PostgresDatabase(IResourceBuilder<IResourceWithConnectionString> resource, Func<DatabaseRole, ReferenceExpression>? asRole = null)
{
    public IResourceBuilder<IResourceWithConnectionString> Resource { get; } = resource;

    /// <summary>The connection string as <paramref name="role"/>, or null where the service is given <see cref="Resource"/>'s.</summary>
    public ReferenceExpression? ConnectionStringAs(DatabaseRole? role) => role is not null ? asRole?.Invoke(role) : null;
}
