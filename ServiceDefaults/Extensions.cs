using System.Text.Json;
using AspireShop.ServiceDefaults.Resilience;
using AspireShop.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every AspireShop service gets: OpenTelemetry, health endpoints, service discovery and resilient HttpClients.
/// Read top to bottom; each service calls <see cref="AddServiceDefaults"/> and <see cref="MapDefaultEndpoints"/>.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    public const string MetricsEndpointPath = "/metrics";
    public const string ServedByHeader = "X-Served-By";
    public const long MaxRequestBodyBytes = 256 * 1024;
    public const string TracesPerSecondSetting = "Telemetry:TracesPerSecond";

    /// <summary>
    /// Series each metric keeps (OpenTelemetry's cardinality limit, 2,000 by default). OpenTelemetry sets aside room
    /// for all of them when an instrument first records, once per reader: with 43-51 instruments and two readers
    /// (the OTLP export, Prometheus' scrape) that was 20 MB of large-object heap in every service, more than its live
    /// objects. The shop's metrics have at most tens of series each (routes by method and status code, shards, queues);
    /// measurements past the limit are still counted, in the metric's overflow series (<c>otel.metric.overflow</c>).
    /// </summary>
    public const int MetricSeriesLimit = 200;
    private const string LiveTag = "live";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        // No request of the shop's APIs or forms comes near this (an order of 50 lines is a few kilobytes), so a body
        // past it is refused with 413 as it streams in, not read into memory up to Kestrel's 30 MB default; an
        // endpoint that takes more says so with its own [RequestSizeLimit].
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes);

        builder.Services.AddShopResilience();
        // Polly logs every execution attempt and every pipeline run at Information: a log record (formatted, exported,
        // ingested by the dashboard) per HTTP call and per order. Retries, timeouts and broken circuits are Warning and
        // stay; Polly's metrics count the rest.
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        // IHttpClientFactory logs four Information records per outgoing request (start and end, twice); the HTTP client
        // spans and metrics already say the same.
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter(builder.Environment.ApplicationName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddView(_ => new MetricStreamConfiguration { CardinalityLimit = MetricSeriesLimit })
                // Every replica serves its own metrics at /metrics, for Prometheus to scrape (the OTLP export to
                // the dashboard goes on beside it).
                .AddPrometheusExporter())
            .WithTracing(tracing =>
            {
                tracing
                    .AddSource(builder.Environment.ApplicationName)
                    .AddAspNetCoreInstrumentation(aspnet =>
                        // Probes hit these every few seconds; tracing them only buries real requests.
                        aspnet.Filter = context =>
                            !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                            && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath)
                            && !context.Request.Path.StartsWithSegments(MetricsEndpointPath))
                    .AddHttpClientInstrumentation();
                if (TraceSampler(builder.Configuration) is { } sampler)
                {
                    tracing.SetSampler(sampler);
                }
            });

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// Which traces are kept: those that join a trace follow its decision, and of those a service starts itself up to
    /// <c>Telemetry:TracesPerSecond</c> a second are kept (see <see cref="TraceRateSampler"/>), so the dashboard shows
    /// every click of a developer and a steady sample under load. The default is 5: a page a developer opens is one
    /// trace, and at 20 a second per replica the ScaleOut graph's eight service replicas spent a tenth of the machine
    /// in the dashboard under load. The standard <c>OTEL_TRACES_SAMPLER</c> setting, where given, chooses instead
    /// (null: OpenTelemetry reads it).
    /// </summary>
    private static Sampler? TraceSampler(IConfiguration configuration)
    {
        if (!string.IsNullOrWhiteSpace(configuration["OTEL_TRACES_SAMPLER"]))
        {
            return null;
        }

        var perSecond = configuration.GetValue<double?>(TracesPerSecondSetting) ?? 5;
        if (perSecond < 0 || !double.IsFinite(perSecond))
        {
            throw new InvalidOperationException($"{TracesPerSecondSetting} must be 0 or more traces a second, not {perSecond}.");
        }

        return new ParentBasedSampler(new TraceRateSampler(perSecond, TimeProvider.System));
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        // Every probe of /health (every few seconds; every 100 ms while the AppHost waits for a service to start) would
        // log each failing check at Error: a dependency that is still starting, or down, is reported by /health itself
        // (the dashboard's health column, Prometheus' alerts), not by a log line per probe.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", LogLevel.None);

        return builder;
    }

    /// <summary>Maps Prometheus' scrape endpoint outside Development too (where the network keeps it internal).</summary>
    public const string ScrapeEndpointSetting = "Metrics:ScrapeEndpoint";

    /// <summary>
    /// Maps <c>/alive</c> (liveness: the process answers) and <c>/health</c> (readiness: every dependency answers)
    /// in every environment, because container orchestrators probe them in production too. In Development, where
    /// Prometheus runs beside the graph, also <c>/metrics</c> and the <see cref="ServedByHeader"/> on every answer.
    /// Elsewhere neither: a deployed service's port is its ingress (the site's is public), so <c>/metrics</c> would be
    /// served to anyone and the header would name the instance; metrics leave by OTLP there, and
    /// <see cref="ScrapeEndpointSetting"/> maps <c>/metrics</c> again where the network keeps it internal.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        if (app.Environment.IsDevelopment())
        {
            // Which replica answered: the orchestrator's instance id (Aspire sets it for OpenTelemetry), else the host
            // name. It makes load balancing over replicas visible to people and tests.
            var instance = (app.Configuration["OTEL_RESOURCE_ATTRIBUTES"] ?? "").Split(',')
                .Select(attribute => attribute.Split('=', 2))
                .FirstOrDefault(pair => pair is ["service.instance.id", { Length: > 0 }])?[1] ?? Environment.MachineName;
            app.Use((context, next) =>
            {
                context.Response.Headers[ServedByHeader] = instance;
                return next(context);
            });
        }

        if (app.Environment.IsDevelopment() || app.Configuration.GetValue<bool>(ScrapeEndpointSetting))
        {
            app.MapPrometheusScrapingEndpoint(MetricsEndpointPath);
        }

        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { ResponseWriter = WriteStatusOnly });
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(LiveTag),
            ResponseWriter = WriteStatusOnly,
        });

        return app;
    }

    /// <summary>
    /// Names each check and its status, nothing more: descriptions and exceptions of health checks can carry
    /// host names, ports or connection strings, which a public probe endpoint must not reveal.
    /// </summary>
    private static Task WriteStatusOnly(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var body = new HealthStatusResponse(
            report.Status.ToString(),
            report.Entries.ToDictionary(entry => entry.Key, entry => entry.Value.Status.ToString()));
        return JsonSerializer.SerializeAsync(context.Response.Body, body, HealthJsonContext.Default.HealthStatusResponse);
    }
}
