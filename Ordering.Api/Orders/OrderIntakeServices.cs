using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using AspireShop.Ordering.Distribution;
using AspireShop.ServiceDefaults;
using Ordering.Api.Buyers;
using Ordering.Api.Operations;
using Ordering.Api.Schema;
using Ordering.Api.Shards;

namespace Ordering.Api.Orders;

public static class OrderIntakeServices
{
    /// <summary>
    /// Order intake: the orders database (its schema migrated here, as its owner), prices from the catalog
    /// (Catalog.Stock), the outbox relay to the broker, buyer authentication, and what the operator's endpoints use
    /// (the order audit, shard moves).
    /// </summary>
    public static IHostApplicationBuilder AddOrderIntake(this IHostApplicationBuilder builder)
    {
        builder.AddOrdersDatabase();
        builder.Services.AddDatabaseInitializer<OrderingSchemaInitializer>(OrderingSchemaInitializer.HealthCheckName);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CatalogStock>();
        builder.Services.AddSingleton<OrderIntakeWriter>();
        builder.Services.AddHostedService(services => services.GetRequiredService<OrderIntakeWriter>());

        builder.AddRabbitMQClient(ResourceNames.Messaging);
        builder.Services.AddSingleton<OrderOutboxSignal>();
        builder.Services.AddHostedService<OrderOutboxRelay>();

        builder.Services.AddSingleton<OrderAudit>();
        builder.Services.AddSingleton<ShardMoves>();

        builder.Services.AddSingleton<OrderingApiMetrics>();
        builder.Services.AddHostedService<OrderClusterSampler>();

        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, OrderingJsonContext.Default));
        builder.AddBuyerAuthentication();
        return builder;
    }
}
