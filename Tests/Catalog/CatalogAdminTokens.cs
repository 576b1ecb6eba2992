using System.Security.Claims;
using Catalog.Api.Security;

namespace Tests.Catalog;

/// <summary>Admin tokens Catalog.Api accepts (or, with <c>admin: false</c>, tokens without the admin role).</summary>
public static class CatalogAdminTokens
{
    public static async Task<string> CreateAsync(DistributedApplication app, string subject, bool admin = true, string? signingKey = null)
    {
        var key = signingKey ?? await SignedTestTokens.ParameterValueAsync(app, "catalog-admin-signing-key");
        List<Claim> claims = [new("sub", subject)];
        if (admin)
        {
            claims.Add(new Claim(AdminAuthentication.RoleClaim, "catalog.admin"));
        }

        return SignedTestTokens.Create(AdminAuthentication.Issuer, AdminAuthentication.Audience, key, claims);
    }
}
