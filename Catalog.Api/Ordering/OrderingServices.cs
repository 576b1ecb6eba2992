using Catalog.Api.Ordering.Data;
using Microsoft.EntityFrameworkCore;

namespace Catalog.Api.Ordering;

public static class OrderingServices
{
    /// <summary>Order intake: the orders database context (on the primary), the outbox relay and buyer authentication.</summary>
    public static IHostApplicationBuilder AddOrdering(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<OrderingDbContext>("catalogdb", configureDbContextOptions: options =>
            options.UseNpgsql(npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory", OrderingDbContext.Schema)));
        builder.Services.AddSingleton<OrderOutboxSignal>();
        builder.Services.AddHostedService<OrderOutboxRelay>();
        builder.Services.ConfigureHttpJsonOptions(options =>
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, OrderingJsonContext.Default));
        builder.AddBuyerAuthentication();
        return builder;
    }
}
