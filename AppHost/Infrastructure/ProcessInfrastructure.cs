using System.Runtime.Versioning;
using AspireShop.AppHost.Drills;
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
        builder.Services.AddHostedService<ServerExitWait>();

        var password = builder.AddResource(ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, "postgres-password", special: false)).Resource;
        var postgres = builder.AddPostgresProcess("postgres", binaries, dataRoot, password, ShopInfrastructure.PostgresSettings)
            .WithDatabase(ShopInfrastructure.CatalogDatabase);
        var standbys = Enumerable.Range(1, settings.PostgresReplicas)
            .Select(n => builder.AddPostgresStandbyProcess($"postgres-replica{n}", postgres, binaries, dataRoot, ShopInfrastructure.PostgresSettings)
                .WithReplayPauseDrill("Catalog reads from this standby fall behind; a reader who has just written (an admin, a buyer whose order moved stock) is sent to the primary by its consistency token."))
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

        // The drills that act on a server's process (freeze it, stop it) are offered where the servers are processes.
        return new ShopInfrastructure(
            catalogDb,
            catalogReadDb,
            builder.AddRedisProcess(ResourceNames.Cache, binaries, dataRoot)
                .WithOutageDrill("Catalog reads fall back to PostgreSQL, the shop front's carts and sign-ins wait for Redis; the services reconnect by themselves."),
            builder.AddRabbitMQProcess(ResourceNames.Messaging, binaries, dataRoot)
                .WithFreezeDrill("Orders are still accepted (they wait in the shards' outboxes); once it thaws the relays publish them and the workers decide them."))
        {
            OrderShards = orderShards,
            MailPickupDirectory = dataRoot.For("mail-pickup"),
            LoadRecordDirectory = dataRoot.For("load-generator"),
            ReplicaEndpointsFile = service => ReplicaDirectory.ServiceDiscoveryFile(dataRoot, service),
        };
    }
}
