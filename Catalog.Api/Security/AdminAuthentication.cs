using AspireShop.ServiceDefaults.Security;
using Catalog.Api.Catalog;
using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace Catalog.Api.Security;

/// <summary>
/// Catalog administration requires a JWT bearer token with the <c>catalog.admin</c> role. Tokens are signed with
/// the key the AppHost supplies as a secret parameter (<c>CatalogAdmin:SigningKey</c>); a deployment with an
/// identity provider sets <c>CatalogAdmin:Authority</c> instead and its tokens are validated against that.
/// Missing or invalid token: 401. Valid token without the role: 403.
/// </summary>
public static class AdminAuthentication
{
    public const string Issuer = "aspireshop";
    public const string Audience = "catalog-api";
    public const string RoleClaim = "role";

    public static IHostApplicationBuilder AddCatalogAdminAuthentication(this IHostApplicationBuilder builder)
    {
        var authority = builder.Configuration["CatalogAdmin:Authority"];
        var key = string.IsNullOrEmpty(authority)
            ? SignedTokenValidation.RequiredKey(builder.Configuration, "CatalogAdmin:SigningKey", "catalog-admin-signing-key")
            : null;

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(options =>
            {
                options.MapInboundClaims = false;
                options.Authority = authority;
                options.Audience = Audience;
                options.TokenValidationParameters = SignedTokenValidation.For(
                    string.IsNullOrEmpty(authority) ? Issuer : authority, Audience, key, RoleClaim);
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(CatalogApi.AdminPolicy, policy => policy.RequireRole(CatalogApi.AdminPolicy));
        return builder;
    }
}
