using AspireShop.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using Polly.Registry;

namespace Catalog.Api.Catalog.Data;

/// <summary>Applies the catalog's migrations and its seed when the service starts (see <see cref="DatabaseInitializer"/>).</summary>
public sealed class CatalogDatabaseInitializer(
    IServiceScopeFactory scopes, ResiliencePipelineProvider<string> pipelines, ILogger<CatalogDatabaseInitializer> logger)
    : DatabaseInitializer(scopes, pipelines, logger)
{
    public const string HealthCheckName = "catalog-schema";

    protected override string What => "The catalog schema";

    protected override Task InitializeAsync(IServiceProvider services, CancellationToken cancellationToken)
        => CatalogSchema.MigrateAsync(services.GetRequiredService<CatalogDbContext>(), cancellationToken);
}
