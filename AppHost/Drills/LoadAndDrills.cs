using AspireShop.AppHost.Infrastructure;
using AspireShop.Contracts;

namespace AspireShop.AppHost.Drills;

/// <summary>The shop's own services, as the AppHost composed them.</summary>
public sealed record ShopServices(
    IResourceBuilder<ProjectResource> CatalogApi,
    IResourceBuilder<ProjectResource> OrderingApi,
    IResourceBuilder<ProjectResource> OrderingWorker,
    IResourceBuilder<ProjectResource> WebFrontend);

public static class LoadAndDrills
{
    /// <summary>
    /// The load generator (started from the dashboard, never with the graph) with its commands, and the drills on the
    /// services: kill a replica of each API and of the worker, move an order bucket. The drills on the backing
    /// servers (freeze RabbitMQ, stop Redis, pause a standby's replay) come with the servers where they run as local
    /// processes (ProcessInfrastructure).
    /// </summary>
    public static void AddLoadAndDrills(
        this IDistributedApplicationBuilder builder, ShopServices services, ScaleSettings scale, IResourceBuilder<ParameterResource> buyerTokenSigningKey,
        string? recordDirectory)
    {
        // The shared secret of Ordering.Api's operator endpoints (/ops), which the bucket move and the load generator's
        // check call.
        var operationsKey = builder.AddParameter(
            OperationsAccess.KeyParameter, new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true);

        services.CatalogApi.WithKillReplicaDrill(
            "The shop front's requests go to the other replicas meanwhile (or it says the catalog is unavailable while none is left).");
        services.OrderingApi
            .WithEnvironment("Operations__Key", operationsKey)
            .WithKillReplicaDrill("An order it answered 202 for is committed with its outbox message; a client left without an answer resends with the same key and finds the same order.");
        if (scale.OrderShards > 1)
        {
            services.OrderingApi.WithBucketMoveCommand(operationsKey, scale.OrderShards);
        }

        services.OrderingWorker.WithKillReplicaDrill(
            "Its unacknowledged deliveries go back to the queue and are decided by another replica, or by it when it is back: once each, none lost.");

        var loadGenerator = builder.AddShopService<Projects.LoadGenerator>(ResourceNames.LoadGenerator)
            .WithExplicitStart()
            .WithReadinessProbe()
            .WithEnvironment("Buyers__SigningKey", buyerTokenSigningKey)
            .WithEnvironment("Operations__Key", operationsKey)
            // Names this AppHost run's record of the orders sent: a new run of the shop starts a new one.
            .WithEnvironment("Load__RunId", Guid.NewGuid().ToString("N"))
            .WithReference(services.CatalogApi)
            .WithReference(services.OrderingApi)
            .WithReference(services.WebFrontend)
            .WithLoadCommands();
        if (recordDirectory is not null)
        {
            loadGenerator.WithEnvironment("Load__RecordDirectory", recordDirectory);
        }
    }
}
