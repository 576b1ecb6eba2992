using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AspireShop.ServiceDefaults.Security;

/// <summary>
/// Signs the short-lived token that proves to Ordering.Api's order endpoints which buyer is asking (issuer
/// <c>aspireshop-web</c>, audience <c>aspireshop-orders</c>, HS256 with the AppHost's <c>buyer-token-signing-key</c>).
/// The shop front issues them for its signed-in buyers; the load generator for the buyers it plays.
/// </summary>
public sealed class BuyerTokenIssuer
{
    public const string Issuer = "aspireshop-web";
    public const string Audience = "aspireshop-orders";
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly JsonWebTokenHandler _handler = new();
    private readonly SigningCredentials _credentials;
    private readonly TimeProvider _clock;

    public BuyerTokenIssuer(IConfiguration configuration, TimeProvider clock)
    {
        var key = configuration["Buyers:SigningKey"];
        if (key is null || Encoding.UTF8.GetByteCount(key) < 32)
        {
            throw new InvalidOperationException(
                "Buyers:SigningKey must be set to the key Ordering.Api checks buyer tokens with (at least 32 bytes); the AppHost passes its buyer-token-signing-key parameter.");
        }

        _credentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256);
        _clock = clock;
    }

    public string TokenFor(string buyerId)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity([new Claim("sub", buyerId)]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + Lifetime,
            SigningCredentials = _credentials,
        });
    }
}
