using AspireShop.Hosting.Processes;

namespace AspireShop.AppHost.Infrastructure;

/// <summary>
/// How a backing server runs, chosen by <see cref="InfrastructureSettings.Mode"/> with one call on the server's
/// builder, as Aspire's <c>RunAsContainer</c> and <c>RunAsEmulator</c> do: Aspire's container integration (the
/// declaration, and what is deployed), a local process from the machine's own binaries, or an existing (managed)
/// server of which only the connection string is known. Whatever runs keeps the declared name, so references and
/// waits do not depend on the mode.
/// </summary>
public static class ServerModes
{
    /// <summary>
    /// The PostgreSQL server with <see cref="PostgresServer.Settings"/>. In a container it accepts replication from
    /// the standbys' containers as the standbys' role only (<see cref="PostgresProcessResource.ReplicationUser"/>, with a
    /// password of its own): the image's pg_hba.conf allows replication from inside the container only, so an init
    /// script creates the role and adds its rule; it is written by the entrypoint rather than bind-mounted, as
    /// Container Apps has no bind mounts, and reads the password from the environment.
    /// </summary>
    public static PostgresServer RunAs(this IResourceBuilder<PostgresServerResource> postgres, InfrastructureSettings infrastructure)
    {
        if (infrastructure.RunsLocalProcesses)
        {
            return new PostgresServer.AsLocalProcess(postgres.RunAsLocalProcess(PostgresServer.Settings));
        }

        if (infrastructure.Mode is InfrastructureMode.External)
        {
            return new PostgresServer.Existing(postgres.RemoveFromModel());
        }

        var replicationPassword = postgres.ApplicationBuilder.AddParameter(
            $"{postgres.Resource.Name}-replication-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
        return new PostgresServer.InContainer(postgres
            .WithEnvironment("REPLICATION_PASSWORD", replicationPassword)
            .WithEntrypoint("bash")
            .WithArgs("-c", $$"""
                cat > /docker-entrypoint-initdb.d/10-replication-role.sh <<'INIT'
                echo "host replication {{PostgresProcessResource.ReplicationUser}} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
                psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres --set password="$REPLICATION_PASSWORD" <<'SQL'
                CREATE ROLE {{PostgresProcessResource.ReplicationUser}} WITH LOGIN REPLICATION PASSWORD :'password';
                SQL
                INIT
                exec docker-entrypoint.sh postgres -c wal_level=replica -c max_wal_senders=16 -c max_replication_slots=16 {{PostgresServer.CommandLineSettings}}
                """), replicationPassword);
    }

    /// <summary>Redis; <paramref name="configureLocal"/> is applied when it runs as a local process.</summary>
    public static SharedCache RunAs(
        this IResourceBuilder<RedisResource> redis, InfrastructureSettings infrastructure, Action<IResourceBuilder<RedisProcessResource>>? configureLocal = null)
    {
        if (infrastructure.RunsLocalProcesses)
        {
            var local = Configure(redis.RunAsLocalProcess(), configureLocal);
            return new SharedCache(local.AsConnectionString(), local);
        }

        return new SharedCache(infrastructure.Mode is InfrastructureMode.External
            ? redis.RemoveFromModel().AddConnectionString(redis.Resource.Name)
            : redis.AsConnectionString());
    }

    /// <summary>
    /// RabbitMQ; <paramref name="configureLocal"/> is applied when it runs as a local process. Its management UI (an
    /// administrator's console on its own port) runs only beside the dashboard, never in a deployed container.
    /// </summary>
    public static MessageBroker RunAs(
        this IResourceBuilder<RabbitMQServerResource> rabbitMQ, InfrastructureSettings infrastructure, Action<IResourceBuilder<RabbitMQProcessResource>>? configureLocal = null)
    {
        if (infrastructure.RunsLocalProcesses)
        {
            var local = Configure(rabbitMQ.RunAsLocalProcess(), configureLocal);
            return new MessageBroker(local.AsConnectionString(), local);
        }

        return new MessageBroker(infrastructure.Mode is InfrastructureMode.External
            ? rabbitMQ.RemoveFromModel().AddConnectionString(rabbitMQ.Resource.Name)
            : (rabbitMQ.ApplicationBuilder.ExecutionContext.IsRunMode ? rabbitMQ.WithManagementPlugin() : rabbitMQ).AsConnectionString());
    }

    // An existing server is not started or deployed; the parameters made for the container were never in the model.
    private static IDistributedApplicationBuilder RemoveFromModel<T>(this IResourceBuilder<T> container) where T : ContainerResource
    {
        container.ApplicationBuilder.Resources.Remove(container.Resource);
        return container.ApplicationBuilder;
    }

    private static IResourceBuilder<T> Configure<T>(IResourceBuilder<T> server, Action<IResourceBuilder<T>>? configure) where T : IResource
    {
        configure?.Invoke(server);
        return server;
    }

    /// <summary>The server or database as what a service references and waits for, whichever way it runs.</summary>
    internal static IResourceBuilder<IResourceWithConnectionString> AsConnectionString<T>(this IResourceBuilder<T> server) where T : IResourceWithConnectionString
        => server.ApplicationBuilder.CreateResourceBuilder<IResourceWithConnectionString>(server.Resource);
}
