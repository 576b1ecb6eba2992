using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Registry;
using Polly.Retry;

namespace AspireShop.ServiceDefaults.Resilience;

/// <summary>
/// A condition that passes on its own within moments, such as an order bucket being moved to another shard: retried
/// after a short pause by <see cref="ShopResilience.DatabaseOutage"/> and <see cref="ShopResilience.BriefDatabaseWait"/>.
/// </summary>
public abstract class PassingConditionException(string message) : Exception(message);

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
    /// retried on transient database failures, restarts and serialization conflicts, and on passing conditions, until
    /// the service stops; other failures go to the caller.
    /// </summary>
    public const string DatabaseOutage = "database-outage";

    /// <summary>
    /// A request that may wait a few seconds for its data (a bucket move's freeze, a database failing over) before it
    /// answers 503: about 5 s of retries from 25 ms doubling to 400 ms.
    /// </summary>
    public const string BriefDatabaseWait = "brief-database-wait";

    /// <summary>
    /// Work that takes a lock under PostgreSQL's <c>lock_timeout</c> (a bucket move's freeze): tried three times, each
    /// waiting that long for the lock, then the failure goes to the caller rather than the work hanging on a stuck holder.
    /// </summary>
    public const string LockTimeout = "lock-timeout";

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
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => IsDatabaseOutage(e) || e is PassingConditionException),
            MaxRetryAttempts = int.MaxValue,
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Outcome.Exception is PassingConditionException
                ? TimeSpan.FromMilliseconds(100)
                : TimeSpan.FromMilliseconds(Math.Min(500 * Math.Pow(2, Math.Min(args.AttemptNumber, 5)), 15_000))),
        }));
        services.AddResiliencePipeline(BriefDatabaseWait, pipeline => pipeline.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => IsDatabaseOutage(e) || e is PassingConditionException),
            MaxRetryAttempts = 14,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(25),
            MaxDelay = TimeSpan.FromMilliseconds(400),
        }));
        services.AddResiliencePipeline(LockTimeout, pipeline => pipeline.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<DbException>(e => e.SqlState == "55P03"),
            MaxRetryAttempts = 2,
            Delay = TimeSpan.Zero,
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
