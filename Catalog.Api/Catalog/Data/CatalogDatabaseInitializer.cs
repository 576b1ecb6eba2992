using Catalog.Api.Ordering.Sharding;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Catalog.Api.Catalog.Data;

/// <summary>
/// Applies the migrations (catalog, the order directory, every order shard), the seed and the first shard map when the service starts, and reports Unhealthy until that is done so no
/// traffic is routed to a replica whose schema is not there yet. EF Core takes a database-wide migration lock, so
/// several replicas starting together apply each migration exactly once; the loser waits, then finds nothing to do.
/// </summary>
public sealed class CatalogDatabaseInitializer(
    IServiceScopeFactory scopes, ILogger<CatalogDatabaseInitializer> logger) : BackgroundService, IHealthCheck
{
    public const string HealthCheckName = "catalog-schema";

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once every schema is up to date: what the relays wait for before their first query.</summary>
    public Task Ready => _ready.Task;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(_ready.Task.IsCompleted ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("Migrations are not applied yet."));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<CatalogDbContext>().Database.MigrateAsync(stoppingToken);
                await OrderShardSetup.EnsureAsync(
                    scope.ServiceProvider.GetRequiredService<OrderDirectoryDbContext>(),
                    scope.ServiceProvider.GetRequiredService<OrderShardContexts>(),
                    stoppingToken);
                _ready.TrySetResult();
                logger.LogInformation("Catalog and order schemas are up to date.");
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A database restart or failover at start-up is transient: retry with backoff rather than crash.
                logger.LogWarning(e, "Applying catalog migrations failed; retrying in {Delay}.", delay);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
            }
        }
    }
}
