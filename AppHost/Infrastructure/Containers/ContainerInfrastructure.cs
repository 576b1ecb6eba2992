namespace AspireShop.AppHost.Infrastructure.Containers;

/// <summary>
/// The shop's backing servers as the Aspire container integrations: used when a container runtime answers, and
/// always in publish mode (the deployment manifest models containers, which azd can deploy).
/// </summary>
internal static class ContainerInfrastructure
{
    public static ShopInfrastructure Add(IDistributedApplicationBuilder builder, InfrastructureSettings settings)
    {
        var postgres = builder.AddPostgres("postgres")
            .WithArgs("-c", "wal_level=replica", "-c", "max_wal_senders=16", "-c", "max_replication_slots=16")
            .WithInitFiles(Path.Combine(builder.AppHostDirectory, "Infrastructure", "Containers", "postgres-init"));
        var catalogDb = postgres.AddDatabase(ShopInfrastructure.CatalogDbName, ShopInfrastructure.CatalogDatabase);

        var standbys = Enumerable.Range(1, settings.PostgresReplicas)
            .Select(n => builder.AddPostgresStandbyContainer($"postgres-replica{n}", postgres))
            .ToList();
        var catalogReadDb = builder.AddReadReplicaConnectionString(
            ShopInfrastructure.CatalogReadDbName, postgres, standbys, PostgresStandbyContainerResource.EndpointName,
            postgres.Resource.UserNameReference, postgres.Resource.PasswordParameter, ShopInfrastructure.CatalogDatabase);

        return new ShopInfrastructure(
            catalogDb,
            catalogReadDb,
            builder.AddRedis(ShopInfrastructure.CacheName),
            builder.AddRabbitMQ(ShopInfrastructure.MessagingName).WithManagementPlugin());
    }
}
