using AspireShop.Contracts;
using AspireShop.Hosting.Processes;
namespace AspireShop.AppHost.Infrastructure.Containers;

/// <summary>
/// The shop's backing servers as the Aspire container integrations: used when a container runtime answers, and
/// always in publish mode (the deployment manifest models containers, which azd can deploy).
/// </summary>
internal static class ContainerInfrastructure
{
    public static ShopInfrastructure Add(IDistributedApplicationBuilder builder, InfrastructureSettings settings)
    {
        // The image's pg_hba.conf allows replication from inside the container only, so an init script adds a rule
        // for the standbys. It is written by the entrypoint rather than bind-mounted: Container Apps has no bind mounts.
        IResourceBuilder<PostgresServerResource> AddPrimary(string name) => builder.AddPostgres(name)
            .WithEntrypoint("bash")
            .WithArgs("-c", $$"""
                echo 'echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"' > /docker-entrypoint-initdb.d/10-allow-replication.sh
                exec docker-entrypoint.sh postgres -c wal_level=replica -c max_wal_senders=16 -c max_replication_slots=16 {{ShopInfrastructure.PostgresCommandLineSettings}}
                """);

        var postgres = AddPrimary("postgres");
        var catalogDb = postgres.AddDatabase(ResourceNames.CatalogDb, ShopInfrastructure.CatalogDatabase);

        var standbys = Enumerable.Range(1, settings.PostgresReplicas)
            .Select(n => builder.AddPostgresStandbyContainer($"postgres-replica{n}", postgres))
            .ToList();
        var catalogReadDb = builder.AddReadReplicaConnectionString(
            ResourceNames.CatalogReadDb, postgres, standbys, PostgresStandbyContainerResource.EndpointName,
            postgres.Resource.UserNameReference, postgres.Resource.PasswordParameter, ShopInfrastructure.CatalogDatabase);

        // Each order shard: a primary of its own with the orders database.
        var orderShards = Enumerable.Range(1, settings.OrderShards).Select(n =>
        {
            var shard = AddPrimary($"orders-shard{n}");
            return (IResourceBuilder<IResourceWithConnectionString>)shard.AddDatabase(ResourceNames.OrderShard(n), ShopInfrastructure.OrdersDatabase);
        }).ToList();

        return new ShopInfrastructure(
            catalogDb,
            catalogReadDb,
            builder.AddRedis(ResourceNames.Cache),
            builder.AddRabbitMQ(ResourceNames.Messaging).WithManagementPlugin())
        {
            OrderShards = orderShards,
        };
    }
}
