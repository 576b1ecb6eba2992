using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace Microsoft.Extensions.Hosting;

public static class SharedHybridCacheExtensions
{
    /// <summary>
    /// <c>HybridCache</c> shared by every replica of every service that registers it: memory first, Redis second, and
    /// a Redis backplane so that a removal (by key or by tag) in one process also evicts the memory level of all the
    /// others. Microsoft's HybridCache reaches only Redis and the calling process's memory, which left each other
    /// replica serving a stale entry until its local expiry; FusionCache implements the same abstraction with a
    /// backplane. Uses the <see cref="IConnectionMultiplexer"/> the service already registered (Aspire's Redis client).
    /// FusionCache logs every call and return (for the entry and each of its tags) at Information, which on a cached
    /// read cost more than the read itself: services using this keep its category at Warning in appsettings.json.
    /// </summary>
    public static IHostApplicationBuilder AddSharedHybridCache(this IHostApplicationBuilder builder)
    {
        builder.Services.AddStackExchangeRedisCache(_ => { });
        builder.Services.AddOptions<RedisCacheOptions>().Configure<IConnectionMultiplexer>((options, redis) =>
            options.ConnectionMultiplexerFactory = () => Task.FromResult(redis));

        builder.Services.AddFusionCache()
            .WithRegisteredDistributedCache()
            .WithSerializer(new FusionCacheSystemTextJsonSerializer())
            .WithStackExchangeRedisBackplane(_ => { })
            .AsHybridCache();
        // FusionCache reads the backplane's options by the cache's name, not the unnamed options.
        builder.Services.AddOptions<ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis.RedisBackplaneOptions>(FusionCacheOptions.DefaultCacheName)
            .Configure<IConnectionMultiplexer>((options, redis) => options.ConnectionMultiplexerFactory = () => Task.FromResult(redis));
        return builder;
    }
}
