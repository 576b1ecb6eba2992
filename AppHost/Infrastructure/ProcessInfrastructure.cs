using System.Runtime.Versioning;
using AspireShop.Contracts;
using AspireShop.Hosting.Processes;
using Microsoft.Extensions.DependencyInjection;

namespace AspireShop.AppHost.Infrastructure;

/// <summary>
/// The shop's backing servers as local processes from installed binaries: for machines without a container runtime.
/// Each is a real Aspire resource with endpoints, a health check and a connection string, so services cannot tell
/// them from the containers.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal static class ProcessInfrastructure
{
    public static ShopInfrastructure Add(IDistributedApplicationBuilder builder, InfrastructureSettings settings)
    {
        var binaries = HostBinaries.Locate(
            new ServerProgramSettings(settings.PostgresBinDirectory, settings.RedisServerPath, settings.RabbitMQServerPath, settings.PrometheusPath));
        var dataRoot = ProcessDataRoot.Claim(builder, settings.DataRoot);
        builder.Services.AddSingleton(dataRoot);

        var password = builder.AddResource(ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, "postgres-password", special: false)).Resource;
        var postgres = builder.AddPostgresProcess("postgres", binaries, dataRoot, password, ShopInfrastructure.PostgresSettings)
            .WithDatabase(ShopInfrastructure.CatalogDatabase);
        var standbys = Enumerable.Range(1, settings.PostgresReplicas)
            .Select(n => builder.AddPostgresStandbyProcess($"postgres-replica{n}", postgres, binaries, dataRoot, ShopInfrastructure.PostgresSettings))
            .ToList();

        var catalogDb = builder.AddConnectionString(
                ResourceNames.CatalogDb, postgres.Resource.DatabaseConnectionString(ShopInfrastructure.CatalogDatabase))
            .WaitFor(postgres);
        var catalogReadDb = builder.AddReadReplicaConnectionString(
            ResourceNames.CatalogReadDb, postgres, standbys, PostgresProcessResource.EndpointName,
            ReferenceExpression.Create($"{PostgresProcessResource.SuperUser}"), password, ShopInfrastructure.CatalogDatabase);

        // Each order shard: a primary of its own with the orders database.
        var orderShards = Enumerable.Range(1, settings.OrderShards).Select(n =>
        {
            var shard = builder.AddPostgresProcess($"orders-shard{n}", binaries, dataRoot, password, ShopInfrastructure.PostgresSettings).WithDatabase(ShopInfrastructure.OrdersDatabase);
            return (IResourceBuilder<IResourceWithConnectionString>)builder.AddConnectionString(
                    ResourceNames.OrderShard(n), shard.Resource.DatabaseConnectionString(ShopInfrastructure.OrdersDatabase))
                .WaitFor(shard);
        }).ToList();

        // Exists before any service starts, so a service that loads a replica list from it can watch it from the start.
        Directory.CreateDirectory(ReplicaDirectory.ServiceDiscoveryDirectory(dataRoot));
        builder.AddPrometheusProcess("prometheus", binaries, dataRoot,
            Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "deploy", "prometheus")));

        return new ShopInfrastructure(
            catalogDb,
            catalogReadDb,
            builder.AddRedisProcess(ResourceNames.Cache, binaries, dataRoot),
            builder.AddRabbitMQProcess(ResourceNames.Messaging, binaries, dataRoot))
        {
            OrderShards = orderShards,
            MailPickupDirectory = dataRoot.For("mail-pickup"),
            ReplicaEndpointsFile = service => ReplicaDirectory.ServiceDiscoveryFile(dataRoot, service),
        };
    }
}
