using StackExchange.Redis;
using Tests.WholeGraph;
using Web.Blazor.KeyRing;

namespace Tests.Web;

/// <summary>The site's data-protection keys, which sign its buyers' cookies, are not readable by whoever reads the shared Redis.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class SiteKeyRingTests(ShopGraphFixture graph)
{
    [Fact]
    public async Task TheKeysAtRestInRedisAreEncrypted()
    {
        // A shopper's first visit is given a signed buyer cookie and the cart's forms antiforgery tokens: the key ring exists.
        using var shopper = new ShopFrontClient(graph.App.GetEndpoint("web-blazor"));
        await shopper.CartLinesAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await graph.App.GetConnectionStringAsync("cache"))!);

        var keys = (await redis.GetDatabase().ListRangeAsync(KeyRingEncryption.RedisKey)).Select(key => key.ToString()).ToList();

        Assert.NotEmpty(keys);
        Assert.All(keys, key =>
        {
            Assert.Contains("<encryptedSecret", key);
            Assert.Contains("AES-256-GCM", key);
            Assert.DoesNotContain("<masterKey", key);
        });
    }
}
