using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AspireShop.ServiceDefaults.Security;

/// <summary>The <c>RateLimiting</c> settings: requests per second and burst, per client.</summary>
public sealed class ClientRateLimitOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Per client IP address for anonymous requests (the shop front's visitors arrive through Web.Blazor).</summary>
    public int AnonymousPerSecond { get; set; } = 2_000;

    /// <summary>Per authenticated subject (token <c>sub</c>), so one caller's burst cannot starve the others.</summary>
    public int AuthenticatedPerSecond { get; set; } = 50;

    /// <summary>Burst allowance as a multiple of the per-second rate.</summary>
    public int BurstSeconds { get; set; } = 2;
}

/// <summary>
/// ASP.NET Core's rate limiter with a token bucket per client: the token's subject when authenticated, otherwise the
/// remote address. Over the limit: 429 ProblemDetails with Retry-After. Health probes are never limited.
/// </summary>
public static class ClientRateLimiting
{
    private static readonly object ProbesPartition = new();
    private static readonly object UnknownAddressPartition = new();

    public static IHostApplicationBuilder AddClientRateLimiting(this IHostApplicationBuilder builder)
    {
        var limits = builder.Configuration.GetSection(ClientRateLimitOptions.SectionName).Get<ClientRateLimitOptions>()
            ?? new ClientRateLimitOptions();
        if (limits.AnonymousPerSecond < 1 || limits.AuthenticatedPerSecond < 1 || limits.BurstSeconds < 1)
        {
            throw new InvalidOperationException("RateLimiting:AnonymousPerSecond, AuthenticatedPerSecond and BurstSeconds must be at least 1.");
        }

        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // Partition keys are the subject string or the IPAddress itself (both compare by value), so the hot
            // anonymous path allocates nothing per request.
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, object>(http =>
            {
                if (IsProbe(http))
                {
                    return RateLimitPartition.GetNoLimiter<object>(ProbesPartition);
                }

                var subject = http.User.Identity?.IsAuthenticated == true ? http.User.Identity.Name : null;
                return subject is not null
                    ? RateLimitPartition.GetTokenBucketLimiter<object>(subject, _ => Bucket(limits.AuthenticatedPerSecond, limits.BurstSeconds))
                    : RateLimitPartition.GetTokenBucketLimiter<object>(
                        http.Connection.RemoteIpAddress ?? (object)UnknownAddressPartition,
                        _ => Bucket(limits.AnonymousPerSecond, limits.BurstSeconds));
            });
            options.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                context.HttpContext.Response.Headers.RetryAfter =
                    Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = "This client sent more requests than it may; retry after the time in the Retry-After header.",
                    },
                });
            };
        });
        return builder;
    }

    /// <summary>The health probes, which no limit may turn away: an orchestrator that gets 429 restarts a healthy replica.</summary>
    public static bool IsProbe(HttpContext http)
        => http.Request.Path.StartsWithSegments(Extensions.HealthEndpointPath) || http.Request.Path.StartsWithSegments(Extensions.AlivenessEndpointPath);

    /// <summary>A token bucket that allows <paramref name="perSecond"/>, refilled every 100 ms, with a burst of <paramref name="burstSeconds"/> seconds' worth.</summary>
    public static TokenBucketRateLimiterOptions Bucket(int perSecond, int burstSeconds) => new()
    {
        TokenLimit = perSecond * burstSeconds,
        TokensPerPeriod = Math.Max(1, perSecond / 10),
        ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
