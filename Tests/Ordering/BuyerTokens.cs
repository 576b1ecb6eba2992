using System.Security.Claims;
using Ordering.Api.Buyers;

namespace Tests.Ordering;

/// <summary>An Ordering.Api client carrying a buyer token, as the shop front issues them.</summary>
public static class BuyerTokens
{
    public static async Task<HttpClient> ClientForAsync(DistributedApplication app, string buyerId)
    {
        var key = await SignedTestTokens.ParameterValueAsync(app, "buyer-token-signing-key");
        var client = app.CreateHttpClient("ordering-api");
        client.DefaultRequestHeaders.Authorization = new("Bearer",
            SignedTestTokens.Create(BuyerAuthentication.Issuer, BuyerAuthentication.Audience, key, [new Claim("sub", buyerId)]));
        return client;
    }
}
