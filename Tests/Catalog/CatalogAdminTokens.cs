using System.Security.Claims;
using System.Text;
using Catalog.Api.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tests.Catalog;

/// <summary>Mints the JWTs Catalog.Api accepts, signed with the key the AppHost generated for this run.</summary>
public static class CatalogAdminTokens
{
    public static async Task<string> CreateAsync(DistributedApplication app, string subject, bool admin = true, string? signingKey = null)
    {
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var key = signingKey ?? await model.Resources.OfType<ParameterResource>()
            .Single(p => p.Name == "catalog-admin-signing-key").GetValueAsync(CancellationToken.None);

        var claims = new List<Claim> { new("sub", subject) };
        if (admin)
        {
            claims.Add(new Claim(AdminAuthentication.RoleClaim, "catalog.admin"));
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = AdminAuthentication.Issuer,
            Audience = AdminAuthentication.Audience,
            Subject = new ClaimsIdentity(claims),
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key!)), SecurityAlgorithms.HmacSha256),
        });
    }
}
