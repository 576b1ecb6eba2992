using AspireShop.ServiceDefaults.Security;

namespace Ordering.Api.Buyers;

/// <summary>
/// Who the buyer is, proven rather than claimed: orders require a JWT (scheme <c>Buyer</c>) whose subject is the buyer
/// id, issued by the shop front (Web.Blazor) and signed with the key the AppHost gives both (<c>Buyers:SigningKey</c>).
/// A separate scheme and key from administration, so the shop front can vouch for buyers but never for admins.
/// </summary>
public static class BuyerAuthentication
{
    public const string Scheme = "Buyer";
    public const string Policy = "buyer";
    public const string Issuer = BuyerTokenIssuer.Issuer;
    public const string Audience = BuyerTokenIssuer.Audience;

    public static IHostApplicationBuilder AddBuyerAuthentication(this IHostApplicationBuilder builder)
    {
        var key = SignedTokenValidation.RequiredKey(builder.Configuration, "Buyers:SigningKey", "buyer-token-signing-key");
        builder.Services.AddAuthentication()
            .AddJwtBearer(Scheme, options =>
            {
                options.MapInboundClaims = false;
                options.TokenValidationParameters = SignedTokenValidation.For(Issuer, Audience, key);
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser().RequireClaim("sub"));
        return builder;
    }
}
