using AspireShop.Contracts.Sharding;
using Catalog.Api.Ordering.Sharding;
using Microsoft.EntityFrameworkCore;

namespace Catalog.Api.Ordering;

public static class OrderingServices
{
    /// <summary>
    /// Order intake: the order shards and their map, the directory (map and stock ledger) in the catalog database, the
    /// outbox relays and buyer authentication.
    /// </summary>
    public static IHostApplicationBuilder AddOrdering(this IHostApplicationBuilder builder)
    {
        builder.AddOrderShards();
        builder.AddNpgsqlDbContext<OrderDirectoryDbContext>("catalogdb", configureDbContextOptions: options =>
            options.UseNpgsql(npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory", OrderDirectoryDbContext.Schema)));
        builder.Services.AddSingleton<OrderShardContexts>();
        builder.Services.AddSingleton<OrderOutboxSignals>();
        builder.Services.AddHostedService<OrderOutboxRelay>();
        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, OrderingJsonContext.Default));
        builder.AddBuyerAuthentication();
        return builder;
    }
}
