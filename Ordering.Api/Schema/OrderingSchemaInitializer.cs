using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults;
using Polly.Registry;

namespace Ordering.Api.Schema;

/// <summary>
/// Ordering.Api owns the ordering schema: when it starts it migrates the order shard map (in the catalog database) and
/// every order shard, and writes the first shard map (<see cref="OrderShardSetup"/>). Ordering.Worker waits for this
/// service to be healthy, which it is only once this is done.
/// </summary>
public sealed class OrderingSchemaInitializer(
    IServiceScopeFactory scopes, ResiliencePipelineProvider<string> pipelines, ILogger<OrderingSchemaInitializer> logger)
    : DatabaseInitializer(scopes, pipelines, logger)
{
    public const string HealthCheckName = "ordering-schema";

    protected override string What => "The ordering schema";

    protected override Task InitializeAsync(IServiceProvider services, CancellationToken cancellationToken)
        => OrderShardSetup.EnsureAsync(
            services.GetRequiredService<OrderShardMapDbContext>(), services.GetRequiredService<OrderShardContexts>(), cancellationToken);
}
