using System.Runtime.Versioning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// A Citus cluster of local processes: the PostgreSQL server becomes the coordinator, and worker servers of its own
/// (<c>name-worker1</c>, ...) hold the shards. Each node is a <see cref="PostgresProcessResource"/> with Citus loaded;
/// once every node is up, the coordinator registers the workers, and the cluster's databases are healthy only while
/// every worker is registered and active.
/// </summary>
[UnsupportedOSPlatform("windows")]
public static class CitusProcessBuilderExtensions
{
    /// <summary>
    /// Runs the server as a Citus coordinator with <paramref name="workers"/> worker processes, all with
    /// <paramref name="settings"/> (which must load <c>citus</c> first in <c>shared_preload_libraries</c>). The workers are
    /// children of the coordinator on the dashboard, and start first: the coordinator registers them when it is ready.
    /// </summary>
    public static IResourceBuilder<PostgresProcessResource> RunAsCitusLocalProcesses(
        this IResourceBuilder<PostgresServerResource> container, int workers, IReadOnlyList<string> settings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var builder = container.ApplicationBuilder;
        var binaries = builder.LocalProcesses().Binaries;
        var extension = Path.GetFullPath(Path.Combine(binaries.PostgresBinDirectory, "..", "lib", "citus.so"));
        if (!File.Exists(extension))
        {
            throw new LocalProcessSetupException(
                $"Citus is not installed for the PostgreSQL in {binaries.PostgresBinDirectory} (no {extension}). "
                + "scripts/prerequisites.sh builds and installs it from ../shared/vendor.");
        }

        var coordinator = container.RunAsLocalProcess(settings);
        var nodes = Enumerable.Range(1, workers)
            .Select(n => builder.AddPrimaryProcess($"{coordinator.Resource.Name}-worker{n}", coordinator.Resource.Password, settings)
                .WithParentRelationship(coordinator))
            .ToList();
        foreach (var node in nodes)
        {
            coordinator.WaitFor(node);
        }

        return coordinator.WithAnnotation(new CitusWorkersAnnotation([.. nodes.Select(node => node.Resource)]));
    }

    /// <summary>
    /// Adds a database to the cluster: created on every node when it is initialised, with the citus extension and the
    /// workers registered in it once the coordinator is ready. Healthy only while every worker is active in it.
    /// </summary>
    public static IResourceBuilder<PostgresProcessDatabaseResource> AddCitusDatabase(
        this IResourceBuilder<PostgresProcessResource> coordinator, string name, string databaseName)
    {
        var workers = coordinator.Resource.Annotations.OfType<CitusWorkersAnnotation>().SingleOrDefault()?.Workers
            ?? throw new InvalidOperationException($"{coordinator.Resource.Name} is not a Citus coordinator: call RunAsCitusLocalProcesses first.");
        foreach (var worker in workers)
        {
            worker.Databases.Add(databaseName);
        }

        var builder = coordinator.ApplicationBuilder;
        var database = coordinator.AddDatabase(name, databaseName);
        builder.Eventing.Subscribe<ResourceReadyEvent>(coordinator.Resource, (ready, cancellationToken) => RegisterWorkersAsync(
            database.Resource, workers, ready.Services.GetRequiredService<ResourceLoggerService>().GetLogger(coordinator.Resource), cancellationToken));

        var key = $"{name}_citus_workers_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(key, _ => new CitusWorkersHealthCheck(database.Resource, workers.Count), null, null));
        return database.WithHealthCheck(key);
    }

    /// <summary>
    /// Creates the extension on every node, gives the nodes the password they use for one another (Citus connects
    /// from node to node as the superuser, for queries and for shard moves: <c>pg_dist_authinfo</c>, readable only by
    /// superusers), names the coordinator and adds each worker not yet added.
    /// </summary>
    private static async Task RegisterWorkersAsync(
        PostgresProcessDatabaseResource database, IReadOnlyList<PostgresProcessResource> workers, ILogger logger, CancellationToken cancellationToken)
    {
        var coordinator = database.Parent;
        var password = (await coordinator.Password.GetValueAsync(cancellationToken))!;
        var authInfo = $"password='{password.Replace(@"\", @"\\").Replace("'", @"\'")}'";
        foreach (var node in workers.Append(coordinator))
        {
            var connectionString = $"{await node.ConnectionStringExpression.GetValueAsync(cancellationToken)};Database={database.DatabaseName}";
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, "CREATE EXTENSION IF NOT EXISTS citus", cancellationToken);
            await ExecuteAsync(connection,
                "INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, $1, $2) ON CONFLICT (nodeid, rolename) DO UPDATE SET authinfo = excluded.authinfo",
                cancellationToken, PostgresProcessResource.SuperUser, authInfo);
        }

        await using var coordination = new NpgsqlConnection(await database.ConnectionStringExpression.GetValueAsync(cancellationToken));
        await coordination.OpenAsync(cancellationToken);
        var coordinatorPort = int.Parse((await coordinator.Endpoint.Property(EndpointProperty.TargetPort).GetValueAsync(cancellationToken))!);
        await ExecuteAsync(coordination, "SELECT citus_set_coordinator_host('localhost', $1)", cancellationToken, coordinatorPort);
        foreach (var worker in workers)
        {
            var port = int.Parse((await worker.Endpoint.Property(EndpointProperty.TargetPort).GetValueAsync(cancellationToken))!);
            await ExecuteAsync(coordination,
                "SELECT citus_add_node('localhost', $1) WHERE NOT EXISTS (SELECT 1 FROM pg_dist_node WHERE nodename = 'localhost' AND nodeport = $1)",
                cancellationToken, port);
            logger.LogInformation("Citus worker {Worker} (port {Port}) is registered in {Database}.", worker.Name, port, database.DatabaseName);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>The worker nodes of a Citus coordinator run as local processes.</summary>
public sealed record CitusWorkersAnnotation(IReadOnlyList<PostgresProcessResource> Workers) : IResourceAnnotation;

/// <summary>Healthy while the cluster's database has every worker registered and active.</summary>
internal sealed class CitusWorkersHealthCheck(PostgresProcessDatabaseResource database, int workers) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = new NpgsqlConnection(await database.ConnectionStringExpression.GetValueAsync(cancellationToken));
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT count(*) FROM citus_get_active_worker_nodes()", connection);
            var active = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            return active >= workers
                ? HealthCheckResult.Healthy($"{active} Citus workers active.")
                : HealthCheckResult.Unhealthy($"{active} of {workers} Citus workers active.");
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"The Citus coordinator does not answer for its workers: {e.Message}");
        }
    }
}
