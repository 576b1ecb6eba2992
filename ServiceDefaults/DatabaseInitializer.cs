using AspireShop.ServiceDefaults.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Registry;

namespace AspireShop.ServiceDefaults;

/// <summary>
/// Brings a service's databases up to date when it starts (migrations, seed), and reports Unhealthy until that is done,
/// so no traffic is routed to a replica whose schema is not there yet and whatever waits for the service waits for
/// its schema. A database restart or failover at start-up is retried (<see cref="ShopResilience.UntilStopped"/>)
/// rather than a crash. EF Core takes a database-wide migration lock, so replicas starting together apply each
/// migration exactly once; the loser waits, then finds nothing to do.
/// </summary>
public abstract class DatabaseInitializer(IServiceScopeFactory scopes, ResiliencePipelineProvider<string> pipelines, ILogger logger)
    : BackgroundService, IHealthCheck
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once every schema is up to date: what background work waits for before its first query.</summary>
    public Task Ready => _ready.Task;

    /// <summary>What is brought up to date, for the log ("Catalog schema").</summary>
    protected abstract string What { get; }

    /// <summary>Applies the migrations and seed; runs again from the start after a failure, so it must be repeatable.</summary>
    protected abstract Task InitializeAsync(IServiceProvider services, CancellationToken cancellationToken);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(_ready.Task.IsCompleted ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("Migrations are not applied yet."));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var context = ResilienceContextPool.Shared.Get($"{What} migration", stoppingToken);
        try
        {
            await pipelines.GetPipeline(ShopResilience.UntilStopped).ExecuteAsync(async context =>
            {
                await using var scope = scopes.CreateAsyncScope();
                await InitializeAsync(scope.ServiceProvider, context.CancellationToken);
            }, context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        _ready.TrySetResult();
        logger.LogInformation("{What} is up to date.", What);
    }
}

public static class DatabaseInitializerRegistration
{
    /// <summary>Runs the initializer at start, as one service other code can wait on, and as the named health check.</summary>
    public static IServiceCollection AddDatabaseInitializer<TInitializer>(this IServiceCollection services, string healthCheckName)
        where TInitializer : DatabaseInitializer
    {
        services.AddSingleton<TInitializer>();
        services.AddHostedService(provider => provider.GetRequiredService<TInitializer>());
        services.AddHealthChecks().AddCheck<TInitializer>(healthCheckName);
        return services;
    }
}
