using System.Text;
using Catalog.Api.Catalog;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

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
        var section = builder.Configuration.GetSection("CatalogAdmin");
        var authority = section["Authority"];
        var signingKey = section["SigningKey"];
        if (string.IsNullOrEmpty(authority) && (signingKey is null || Encoding.UTF8.GetByteCount(signingKey) < 32))
        {
            throw new InvalidOperationException(
                "CatalogAdmin:SigningKey must be at least 32 bytes (or set CatalogAdmin:Authority); the AppHost supplies it as the catalog-admin-signing-key parameter.");
        }

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(options =>
            {
                options.MapInboundClaims = false;
                options.Authority = authority;
                options.Audience = Audience;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = string.IsNullOrEmpty(authority) ? Issuer : authority,
                    ValidAudience = Audience,
                    RoleClaimType = RoleClaim,
                    NameClaimType = "sub",
                    IssuerSigningKey = signingKey is null ? null : new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)),
                };
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(CatalogApi.AdminPolicy, policy => policy.RequireRole(CatalogApi.AdminPolicy));
        return builder;
    }
}
