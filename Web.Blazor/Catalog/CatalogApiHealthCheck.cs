using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Web.Blazor.Catalog;

/// <summary>
/// Reports whether Catalog.Api answers its liveness probe. Registered as Degraded on failure, not Unhealthy:
/// the site still serves pages (and tells shoppers the catalog is unavailable) when the API is down.
/// </summary>
internal sealed class CatalogApiHealthCheck(IHttpClientFactory httpClientFactory) : IHealthCheck
{
    public const string HttpClientName = "catalog-api-probe";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await httpClientFactory.CreateClient(HttpClientName).GetAsync("/alive", cancellationToken);
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"Catalog.Api answered {(int)response.StatusCode}.");
        }
        catch (HttpRequestException e)
        {
            return HealthCheckResult.Unhealthy("Catalog.Api did not answer.", e);
        }
    }
}
