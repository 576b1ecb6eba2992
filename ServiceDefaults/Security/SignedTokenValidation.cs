using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.IdentityModel.Tokens;

namespace AspireShop.ServiceDefaults.Security;

/// <summary>The validation both token kinds share: a shop-issued JWT, signed with a symmetric key from configuration.</summary>
public static class SignedTokenValidation
{
    /// <summary>The key in <paramref name="setting"/>, or a startup failure that says which AppHost parameter supplies it.</summary>
    public static SymmetricSecurityKey RequiredKey(IConfiguration configuration, string setting, string parameterName)
    {
        var key = configuration[setting];
        if (key is null || Encoding.UTF8.GetByteCount(key) < 32)
        {
            throw new InvalidOperationException(
                $"{setting} must be at least 32 bytes; the AppHost supplies it as the {parameterName} parameter.");
        }

        return new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key));
    }

    public static TokenValidationParameters For(string issuer, string audience, SecurityKey? key, string? roleClaim = null) => new()
    {
        ValidIssuer = issuer,
        ValidAudience = audience,
        IssuerSigningKey = key,
        NameClaimType = "sub",
        RoleClaimType = roleClaim ?? "role",
    };
}
