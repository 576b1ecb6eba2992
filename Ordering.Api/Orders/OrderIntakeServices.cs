using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Ordering.Api.Buyers;
using Ordering.Api.Operations;
using Ordering.Api.Schema;
using Ordering.Api.Sharding;

namespace Ordering.Api.Orders;

public static class OrderIntakeServices
{
    /// <summary>
    /// Order intake: the order shards and their map in the catalog database (migrated here, as the schema's owner),
    /// prices from the catalog (Catalog.Stock), the outbox relays to the broker and the recovery of what a broker lost,
    /// buyer authentication, and what the operator's endpoints use (the order audit, bucket moves).
    /// </summary>
    public static IHostApplicationBuilder AddOrderIntake(this IHostApplicationBuilder builder)
    {
        builder.AddOrderShards();
        builder.AddNpgsqlDbContext<OrderShardMapDbContext>(ResourceNames.CatalogDb, configureDbContextOptions: options =>
            options.UseNpgsql(npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory", OrderShardMapDbContext.Schema)));
        builder.Services.AddDatabaseInitializer<OrderingSchemaInitializer>(OrderingSchemaInitializer.HealthCheckName);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<OrderShardContexts>();
        builder.Services.AddSingleton<CatalogStock>();
        builder.Services.AddSingleton<OrderIntakeWriter>();
        builder.Services.AddHostedService(services => services.GetRequiredService<OrderIntakeWriter>());

        builder.AddRabbitMQClient(ResourceNames.Messaging);
        builder.Services.AddSingleton<OrderOutboxSignals>();
        builder.Services.AddHostedService<OrderOutboxRelay>();
        builder.Services.AddOptions<OutboxRecoveryOptions>()
            .Bind(builder.Configuration.GetSection(OutboxRecoveryOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddHostedService<OrderOutboxRecovery>();

        builder.Services.AddSingleton<OrderAudit>();
        builder.Services.AddScoped<BucketMover>();
        builder.Services.AddHostedService<BucketMoveRecovery>();

        builder.Services.AddSingleton<OrderingApiMetrics>();
        builder.Services.AddHostedService<OrderShardSampler>();

        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, OrderingJsonContext.Default));
        builder.AddBuyerAuthentication();
        return builder;
    }
}
