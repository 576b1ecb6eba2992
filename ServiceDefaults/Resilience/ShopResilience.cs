using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Registry;
using Polly.Retry;

namespace AspireShop.ServiceDefaults.Resilience;

/// <summary>
/// Every retry policy of the services, as Polly pipelines registered by key (HTTP calls have the standard resilience
/// handler instead). Callers get one from <see cref="ResiliencePipelineProvider{TKey}"/> and name what they retry in
/// the operation key, which Polly's telemetry puts in its log line and metrics for every retry.
/// </summary>
public static class ShopResilience
{
    /// <summary>
    /// Work that must go on as long as the service runs (relays, consumers, schema set-up): retried after any failure,
    /// from 250 ms doubling to 15 s with jitter, until the service stops.
    /// </summary>
    public const string UntilStopped = "until-stopped";

    /// <summary>
    /// Work that holds something it must not give up during a database outage (a message it has not acknowledged):
    /// retried on transient database failures, restarts and serialization conflicts, until the service stops; other
    /// failures go to the caller.
    /// </summary>
    public const string DatabaseOutage = "database-outage";

    /// <summary>
    /// A request that may wait a few seconds for its data (a database restarting or failing over) before it answers
    /// 503: about 5 s of retries from 25 ms doubling to 400 ms.
    /// </summary>
    public const string BriefDatabaseWait = "brief-database-wait";

    public static IServiceCollection AddShopResilience(this IServiceCollection services)
    {
        services.AddResiliencePipeline(UntilStopped, pipeline => pipeline.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(250),
            MaxDelay = TimeSpan.FromSeconds(15),
        }));
        services.AddResiliencePipeline(DatabaseOutage, pipeline => pipeline.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsDatabaseOutage),
            MaxRetryAttempts = int.MaxValue,
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                TimeSpan.FromMilliseconds(Math.Min(500 * Math.Pow(2, Math.Min(args.AttemptNumber, 5)), 15_000))),
        }));
        services.AddResiliencePipeline(BriefDatabaseWait, pipeline => pipeline.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsDatabaseOutage),
            MaxRetryAttempts = 14,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(25),
            MaxDelay = TimeSpan.FromMilliseconds(400),
        }));
        return services;
    }

    /// <summary>
    /// A failure the database will get over by itself: a transient one (connection refused or broken, timeout), the
    /// server shutting down or starting (57P01, 57P03), a serialization failure or deadlock (40001, 40P01). Read through
    /// <see cref="DbException"/>, which Npgsql's exceptions implement, so this library needs no database driver.
    /// </summary>
    public static bool IsDatabaseOutage(Exception e) => (e as DbException ?? e.InnerException as DbException) is { } db
        && (db.IsTransient || db.SqlState is "57P01" or "57P03" or "40001" or "40P01");
}
