using System.Diagnostics.Metrics;

namespace Catalog.Api.Operations;

/// <summary>
/// Catalog.Api's own instruments, on the meter named after the application (which ServiceDefaults exports and
/// serves to Prometheus at <c>/metrics</c>). Names follow OpenTelemetry conventions; Prometheus sees them with
/// underscores and unit suffixes (e.g. <c>aspireshop_catalog_cache_lookups_total</c>).
/// </summary>
public sealed class CatalogApiMetrics
{
    public const string MeterName = "Catalog.Api";

    public CatalogApiMetrics(IMeterFactory meters)
    {
        Meter = meters.Create(MeterName);
        CacheLookups = Meter.CreateCounter<long>("aspireshop.catalog.cache.lookups", "{lookup}", "Catalog reads answered through HybridCache.");
        CacheMisses = Meter.CreateCounter<long>("aspireshop.catalog.cache.misses", "{lookup}", "Catalog reads HybridCache had to fetch from the read replica.");
    }

    public Meter Meter { get; }

    public Counter<long> CacheLookups { get; }

    public Counter<long> CacheMisses { get; }
}
