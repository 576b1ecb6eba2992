using AspireShop.Hosting.Processes;

namespace AspireShop.AppHost.Infrastructure;

public static class PostgresStandbyContainerBuilderExtensions
{
    private const string DataDirectory = "/var/lib/postgresql/data";

    /// <summary>
    /// Adds a hot standby of <paramref name="primary"/> in the same PostgreSQL image: on first start it clones the
    /// primary with pg_basebackup through a replication slot of its own, then follows it by streaming replication, as
    /// the standbys' role with <paramref name="replicationPassword"/>.
    /// </summary>
    public static IResourceBuilder<PostgresStandbyContainerResource> AddPostgresStandbyContainer(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<PostgresServerResource> primary,
        IResourceBuilder<ParameterResource> replicationPassword)
    {
        var image = primary.Resource.Annotations.OfType<ContainerImageAnnotation>().Single();
        var resource = new PostgresStandbyContainerResource(name, primary.Resource);
        var slot = name.Replace('-', '_');
        var clone =
            $"""
            set -e
            if [ ! -s "$PGDATA/PG_VERSION" ]; then
              mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
              until gosu postgres pg_basebackup -h {primary.Resource.Name} -p {PostgresStandbyContainerResource.Port} -U "$PGUSER" -D "$PGDATA" -X stream -C -S {slot} -R; do
                echo "waiting for the primary"; sleep 2
              done
            fi
            exec gosu postgres postgres -c hot_standby=on -c max_wal_senders=16 -c max_replication_slots=16 {PostgresServer.CommandLineSettings}
            """;

        var healthCheckKey = builder.AddNpgSqlCheck(resource);

        return builder.AddResource(resource)
            .WithImage(image.Image, image.Tag)
            .WithImageRegistry(image.Registry)
            .WithEndpoint(targetPort: PostgresStandbyContainerResource.Port, name: PostgresStandbyContainerResource.EndpointName, scheme: "tcp")
            .WithEnvironment("PGDATA", DataDirectory)
            .WithEnvironment("PGUSER", PostgresProcessResource.ReplicationUser)
            .WithEnvironment("PGPASSWORD", replicationPassword)
            .WithEntrypoint("bash")
            .WithArgs("-c", clone)
            .WithParentRelationship(primary)
            .WaitFor(primary)
            .WithHealthCheck(healthCheckKey)
            .WithStartupHealthPolling();
    }
}
