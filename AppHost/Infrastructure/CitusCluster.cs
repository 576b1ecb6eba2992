using System.Runtime.Versioning;
using AspireShop.Hosting.Processes;

namespace AspireShop.AppHost.Infrastructure;

/// <summary>
/// The orders' distributed PostgreSQL, as the AppHost declares it however it runs
/// (<see cref="ServerModes.RunAsCitus"/>): a Citus coordinator with worker processes, a single-node Citus container,
/// or an existing cluster (an Azure Database for PostgreSQL elastic cluster), of which only the connection string is
/// known. Orders are distributed by buyer over the workers by Citus itself (the ordering schema says how).
/// </summary>
public abstract class CitusCluster
{
    /// <summary>
    /// The image the container runs (the project's Citus, 13.2, as scripts/prerequisites.sh builds it for processes).
    /// </summary>
    public const string Image = "citusdata/citus";

    public const string ImageTag = "13.2";

    /// <summary>
    /// <see cref="PostgresServer.Settings"/> with Citus: loaded first, as it must be; two-phase commit (a transaction
    /// that writes orders on two workers commits on both or neither, through prepared transactions); logical decoding,
    /// which moves a shard while it takes writes; each coordinator session keeps its worker connections open between
    /// statements, rather than connecting anew (a fork of a worker backend) for almost every one; a statement whose
    /// client has gone (a shard move whose caller was killed) is ended within a second rather than run to its end
    /// unobserved; and no usage reports sent to Citus Data from a developer's machine.
    /// </summary>
    public static readonly IReadOnlyList<string> Settings =
    [
        .. PostgresServer.Settings.Select(setting => setting.StartsWith("shared_preload_libraries=", StringComparison.Ordinal)
            ? setting.Replace("=", "=citus,", StringComparison.Ordinal)
            : setting),
        $"max_prepared_transactions={PostgresServer.MaxConnections}",
        "wal_level=logical",
        "citus.max_cached_conns_per_worker=4",
        "client_connection_check_interval=1000",
        "citus.enable_statistics_collection=off",
    ];

    public abstract IResourceBuilder<IResourceWithConnectionString> AddDatabase(string name, string databaseName);

    /// <summary>
    /// One node that is coordinator and worker at once: Citus puts the shards on the coordinator when it has no
    /// workers, so the same schema and queries run; more nodes are added to a deployed cluster, not here.
    /// </summary>
    internal sealed class InContainer(IResourceBuilder<PostgresServerResource> container) : CitusCluster
    {
        public override IResourceBuilder<IResourceWithConnectionString> AddDatabase(string name, string databaseName)
            => container.AddDatabase(name, databaseName).AsConnectionString();
    }

    [UnsupportedOSPlatform("windows")]
    internal sealed class AsLocalProcesses(IResourceBuilder<PostgresProcessResource> coordinator) : CitusCluster
    {
        public override IResourceBuilder<IResourceWithConnectionString> AddDatabase(string name, string databaseName)
            => coordinator.AddCitusDatabase(name, databaseName).AsConnectionString();
    }

    /// <summary>An existing cluster: its database is a connection string, a secret parameter when deployed.</summary>
    internal sealed class Existing(IDistributedApplicationBuilder builder) : CitusCluster
    {
        public override IResourceBuilder<IResourceWithConnectionString> AddDatabase(string name, string databaseName)
            => builder.AddConnectionString(name);
    }
}
