using AspireShop.Contracts;
using AspireShop.ServiceDefaults;
using Catalog.Api.Catalog.Data;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Catalog.Api.Catalog;

public static class CatalogServices
{
    /// <summary>
    /// The catalog's data and cache: EF Core on the primary (<c>catalogdb</c>) and on the replicas
    /// (<c>catalogdb-replica</c>), the schema initializer, and HybridCache with Redis as its second level.
    /// </summary>
    public static IHostApplicationBuilder AddCatalog(this IHostApplicationBuilder builder)
    {
        // Seeding runs inside the migration, under CatalogSchema's lock, so replicas starting together seed once.
        builder.AddNpgsqlDbContext<CatalogDbContext>(ResourceNames.CatalogDb, configureDbContextOptions: options =>
            options.UseAsyncSeeding((context, _, ct) => CatalogSeed.SeedAsync(context, ct)));
        builder.AddNpgsqlDbContext<CatalogReadDbContext>(ResourceNames.CatalogReadDb, configureDbContextOptions: options =>
            options.UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking));

        builder.Services.AddDatabaseInitializer<CatalogDatabaseInitializer>(CatalogDatabaseInitializer.HealthCheckName);

        // Redis is the cache's second level, not a dependency of reads: when it is down the API serves from the
        // database and reports Degraded. Fail-fast keeps a dead Redis from adding its timeout to every request.
        builder.AddRedisClient(ResourceNames.Cache, settings => settings.DisableHealthChecks = true, options =>
        {
            options.AbortOnConnectFail = false;
            options.BacklogPolicy = BacklogPolicy.FailFast;
        });
        builder.Services.AddHealthChecks().AddRedis(
            services => services.GetRequiredService<IConnectionMultiplexer>(),
            name: ResourceNames.Cache,
            failureStatus: Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded,
            timeout: TimeSpan.FromSeconds(2));
        builder.AddSharedHybridCache();
        builder.Services.Configure<CatalogCacheOptions>(builder.Configuration.GetSection(CatalogCacheOptions.SectionName));

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ReplicaCatchUp>();
        builder.Services.AddScoped<CatalogReader>();
        builder.Services.AddScoped<ProductChanges>();
        builder.Services.AddHttpContextAccessor();
        return builder;
    }
}
