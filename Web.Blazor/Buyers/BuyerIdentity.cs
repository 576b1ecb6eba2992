using System.Security.Claims;
using AspireShop.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Web.Blazor.Buyers;

/// <summary>
/// Every shopper is a buyer from the first request: an id in a signed, encrypted cookie (ASP.NET data protection,
/// whose keys are shared in Redis, so any replica reads a cookie another wrote). The site keeps no session state.
/// </summary>
public static class BuyerIdentity
{
    public const string CookieName = "aspireshop.buyer";

    public static IHostApplicationBuilder AddBuyerIdentity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(options =>
            {
                options.Cookie.Name = CookieName;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.ExpireTimeSpan = TimeSpan.FromDays(180);
                options.SlidingExpiration = true;
            });
        builder.Services.AddAuthorization();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<BuyerTokenIssuer>();
        return builder;
    }

    /// <summary>Gives a request without a buyer cookie a new buyer id, for this request and (by the cookie) the next ones.</summary>
    public static IApplicationBuilder UseBuyerIdentity(this IApplicationBuilder app)
        => app.Use(async (context, next) =>
        {
            if (context.User.Identity?.IsAuthenticated != true && !IsInfrastructure(context.Request.Path))
            {
                var buyer = new ClaimsPrincipal(new ClaimsIdentity(
                    [new Claim(ClaimTypes.NameIdentifier, $"buyer-{Guid.NewGuid():N}")], CookieAuthenticationDefaults.AuthenticationScheme));
                await context.SignInAsync(buyer, new AuthenticationProperties { IsPersistent = true });
                context.User = buyer;
            }

            await next(context);
        });

    public static string BuyerId(this ClaimsPrincipal user)
        => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("The request has no buyer.");

    // Probes and static files need no buyer (and must not set cookies on every health check).
    private static bool IsInfrastructure(PathString path)
        => path.StartsWithSegments("/health") || path.StartsWithSegments("/alive") || path.StartsWithSegments("/_framework")
            || path.StartsWithSegments("/pictures") || Path.HasExtension(path.Value);
}
