using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using AspireShop.ServiceDefaults.Security;
using Microsoft.AspNetCore.HttpOverrides;
using Web.Blazor.Buyers;

namespace Web.Blazor.Edge;

/// <summary>The site's <c>RateLimiting</c> settings: per client address, requests and new buyers per second.</summary>
public sealed class SiteRateLimitOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Requests per second per client address, pages and their assets alike (a page is about fifteen).</summary>
    public int PerClientPerSecond { get; set; } = 100;

    /// <summary>
    /// Requests without a buyer cookie per second per client address: each makes a new buyer (a signed cookie and, on
    /// the first cart write, a Redis hash), so a cookieless flood is limited much sooner than browsing.
    /// </summary>
    public int NewBuyersPerSecond { get; set; } = 5;

    /// <summary>Burst allowance as a multiple of the per-second rates.</summary>
    public int BurstSeconds { get; set; } = 2;

    /// <summary>
    /// Take the client's address from X-Forwarded-For, as the platform's ingress sets it. Only where the AppHost says an
    /// ingress is in front (deployed): anyone can send the header, so trusting it elsewhere lets a client pick its own
    /// address and its own limit.
    /// </summary>
    public bool TrustForwardedHeaders { get; set; }
}

/// <summary>
/// The public site's rate limiter: ASP.NET Core's, with a token bucket per client address for every request and a
/// smaller one for requests that would make a new buyer. Over a limit: 429 with Retry-After and a page that says when
/// to come back. Health probes are never limited. Limits are per replica.
/// </summary>
public static class SiteRateLimiting
{
    private static readonly object Unlimited = new();
    private static readonly object UnknownAddress = new();

    public static IHostApplicationBuilder AddSiteRateLimiting(this IHostApplicationBuilder builder)
    {
        var limits = builder.Configuration.GetSection(SiteRateLimitOptions.SectionName).Get<SiteRateLimitOptions>() ?? new SiteRateLimitOptions();
        if (limits.PerClientPerSecond < 1 || limits.NewBuyersPerSecond < 1 || limits.BurstSeconds < 1)
        {
            throw new InvalidOperationException("RateLimiting:PerClientPerSecond, NewBuyersPerSecond and BurstSeconds must be at least 1.");
        }

        builder.Services.AddSingleton(limits);
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // The ingress's own address is the platform's, not one to list here; only its last hop is taken.
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
            options.ForwardLimit = 1;
        });
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, object>(http => ClientRateLimiting.IsProbe(http)
                    ? RateLimitPartition.GetNoLimiter(Unlimited)
                    : RateLimitPartition.GetTokenBucketLimiter(ClientOf(http), _ => ClientRateLimiting.Bucket(limits.PerClientPerSecond, limits.BurstSeconds))),
                PartitionedRateLimiter.Create<HttpContext, object>(http => ClientRateLimiting.IsProbe(http) || http.Request.Cookies.ContainsKey(BuyerIdentity.CookieName)
                    ? RateLimitPartition.GetNoLimiter(Unlimited)
                    : RateLimitPartition.GetTokenBucketLimiter(ClientOf(http), _ => ClientRateLimiting.Bucket(limits.NewBuyersPerSecond, limits.BurstSeconds))));
            options.OnRejected = async (context, cancellationToken) =>
            {
                var wait = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                var response = context.HttpContext.Response;
                response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                response.Headers.CacheControl = "no-store";
                response.ContentType = "text/html; charset=utf-8";
                await response.WriteAsync($"""
                    <!DOCTYPE html>
                    <html lang="en"><head><meta charset="utf-8"><title>Too many requests · AspireShop</title></head>
                    <body><h1>Too many requests</h1>
                    <p>This address has sent more requests than the shop answers from one visitor. Please try again in {seconds} second{(seconds == 1 ? "" : "s")}.</p>
                    </body></html>
                    """, cancellationToken);
            };
        });
        return builder;
    }

    /// <summary>Before anything that costs work per request: the client's address (from the ingress when trusted), then the limits.</summary>
    public static WebApplication UseSiteRateLimiting(this WebApplication app)
    {
        if (app.Services.GetRequiredService<SiteRateLimitOptions>().TrustForwardedHeaders)
        {
            app.UseForwardedHeaders();
        }

        app.UseRateLimiter();
        return app;
    }

    // The IPAddress itself is the partition key (it compares by value), so the hot path allocates nothing.
    private static object ClientOf(HttpContext http) => http.Connection.RemoteIpAddress is IPAddress address ? address : UnknownAddress;
}
