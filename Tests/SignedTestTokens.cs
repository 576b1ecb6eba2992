using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tests;

/// <summary>Signs JWTs the way the shop's issuers do, with a key the AppHost generated for this run.</summary>
public static class SignedTestTokens
{
    public static async Task<string> ParameterValueAsync(DistributedApplication app, string parameterName)
        => (await app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>()
            .Single(p => p.Name == parameterName).GetValueAsync(CancellationToken.None))!;

    public static string Create(string issuer, string audience, string key, IEnumerable<Claim> claims)
        => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Subject = new ClaimsIdentity(claims),
            Expires = DateTime.UtcNow.AddMinutes(30),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        });
}
