using AspireShop.AppHost.Infrastructure.Containers;
using AspireShop.Contracts;
using AspireShop.Hosting.Processes;

namespace AspireShop.AppHost.Infrastructure;

/// <summary>
/// What the services connect to. The names are the connection-string names the services read
/// (<see cref="ResourceNames"/>), identical in every mode, so no service can tell how the backing servers are run.
/// </summary>
public sealed record ShopInfrastructure(
    IResourceBuilder<IResourceWithConnectionString> CatalogDb,
    IResourceBuilder<IResourceWithConnectionString> CatalogReadDb,
    IResourceBuilder<IResourceWithConnectionString> Cache,
    IResourceBuilder<IResourceWithConnectionString> Messaging)
{
    /// <summary>The order shards' primaries, <c>ordersdb-shard1</c> to <c>ordersdb-shardN</c>.</summary>
    public IReadOnlyList<IResourceBuilder<IResourceWithConnectionString>> OrderShards { get; init; } = [];

    /// <summary>Where Ordering.Worker drops buyers' mails as .eml files in run mode (null: its own default).</summary>
    public string? MailPickupDirectory { get; init; }

    /// <summary>Where the load generator keeps its record of the orders it sent in run mode (null: its own default).</summary>
    public string? LoadRecordDirectory { get; init; }

    /// <summary>
    /// The file listing every running replica of a service, in service discovery's configuration layout, for callers
    /// that balance over the replicas themselves (null: callers go through the orchestrator's proxy).
    /// </summary>
    public Func<string, string>? ReplicaEndpointsFile { get; init; }

    public const string CatalogDatabase = "catalog";
    public const string OrdersDatabase = "orders";

    /// <summary>
    /// Connection limit of every PostgreSQL server (primaries and standbys alike: a standby refuses to run with a lower
    /// one than its primary). The default, 100, ran out under the load test's 128 concurrent orders: each of the two
    /// API and two worker processes' Npgsql pools may grow to 100 connections per database in a burst.
    /// </summary>
    public const int PostgresMaxConnections = 300;

    /// <summary>
    /// The settings every PostgreSQL server runs with, in both modes. Beyond the connection limit: room for write load
    /// (WAL may grow to 2 GB and checkpoints come every 15 minutes rather than every 1 GB / 5 minutes, so a burst of
    /// orders does not force checkpoints and full-page writes) and <c>pg_stat_statements</c> loaded, so the numbers in
    /// docs/benchmarks.md can be explained statement by statement. Durability is not traded: fsync and synchronous
    /// commit stay on.
    /// </summary>
    public static readonly IReadOnlyList<string> PostgresSettings =
    [
        $"max_connections={PostgresMaxConnections}",
        "shared_preload_libraries=pg_stat_statements",
        "max_wal_size=2GB",
        "checkpoint_timeout=15min",
    ];

    /// <summary><see cref="PostgresSettings"/> as <c>postgres</c> command-line options, for the container entrypoints.</summary>
    public static string PostgresCommandLineSettings => string.Join(' ', PostgresSettings.Select(setting => $"-c {setting}"));
}

public static class ShopInfrastructureExtensions
{
    /// <summary>
    /// The one place where the backing servers are chosen: containers, local processes or external (managed) servers.
    /// Provisioning managed Azure services from here (Aspire.Hosting.Azure.*) would be one more case of this switch.
    /// </summary>
    public static ShopInfrastructure AddShopInfrastructure(this IDistributedApplicationBuilder builder, ScaleSettings scale)
    {
        var settings = InfrastructureSettings.From(builder, scale);
        return settings.ResolveMode(builder.ExecutionContext) switch
        {
            InfrastructureMode.Processes when OperatingSystem.IsWindows() => throw new InfrastructureSetupException(
                "processes mode runs the backing servers from Linux or macOS binaries; on Windows start Docker Desktop or Podman and use Infrastructure:Mode=containers."),
            InfrastructureMode.Processes => ProcessInfrastructure.Add(builder, settings),
            InfrastructureMode.External => new ShopInfrastructure(
                builder.AddConnectionString(ResourceNames.CatalogDb),
                builder.AddConnectionString(ResourceNames.CatalogReadDb),
                builder.AddConnectionString(ResourceNames.Cache),
                builder.AddConnectionString(ResourceNames.Messaging))
            {
                OrderShards = [.. Enumerable.Range(1, settings.OrderShards).Select(n => builder.AddConnectionString(ResourceNames.OrderShard(n)))],
            },
            _ => ContainerInfrastructure.Add(builder, settings),
        };
    }

    /// <summary>
    /// The service is healthy when its own <c>/health</c> says so (every dependency it connects to answers), not merely
    /// when its process runs, so whatever waits for it waits for a service that can serve.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithReadinessProbe(this IResourceBuilder<ProjectResource> service)
        => service.WithHttpHealthCheck("/health").WithStartupHealthPolling();

    /// <summary>Hands the service every connection string of the list, each a <see cref="WithDependency{T}"/>.</summary>
    public static IResourceBuilder<T> WithDependencies<T>(
        this IResourceBuilder<T> service, IEnumerable<IResourceBuilder<IResourceWithConnectionString>> dependencies)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
    {
        foreach (var dependency in dependencies)
        {
            service.WithDependency(dependency);
        }

        return service;
    }

    /// <summary>Hands the service the connection string and holds its start until that dependency is healthy.</summary>
    public static IResourceBuilder<T> WithDependency<T>(
        this IResourceBuilder<T> service, IResourceBuilder<IResourceWithConnectionString> dependency)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
        => service.WithReference(dependency).WaitFor(dependency);
}
