using System.Net.Http.Json;
using AspireShop.Contracts;
using Catalog.Api.Catalog;
using StackExchange.Redis;
using Tests.Catalog;
using Tests.Web;

namespace Tests.WholeGraph;

/// <summary>
/// The services sign in to Redis as users of their own (AppHost's SharedCache), each limited to its keyspace
/// (CacheKeyspaces): the site's carts, checkouts and data-protection keys are closed to the catalog and the worker, and
/// the catalog's cache to the site; and the keyspaces are the ones the services really use, so none of their commands
/// is refused (a refused cache write would only slow the shop, never fail it, so nothing else would notice).
/// </summary>
[Collection(ShopGraphCollection.Name)]
public sealed class ServiceCacheUserTests(ShopGraphFixture graph)
{
    // Names this test's own connections, so the refusals it provokes are told apart from the services'.
    private const string IntruderClientName = "service-cache-user-tests";

    private static readonly string[] Services = ["catalog-api", "ordering-worker", "web-blazor"];

    [Theory]
    [InlineData("catalog-api")]
    [InlineData("ordering-worker")]
    [InlineData("web-blazor")]
    public async Task EveryServiceSignsInAsItsOwnUserNeverAsTheDefaultOne(string service)
    {
        foreach (var connectionStrings in await graph.App.ReplicaConnectionStringsAsync(service))
        {
            Assert.Equal(service, ConfigurationOptions.Parse(connectionStrings["cache"]).User);
        }
    }

    [Fact]
    public async Task TheSitesUserCannotReadTheCatalogsCacheNorTheCatalogsUserTheSitesKeys()
    {
        await using var site = await ConnectAsAsync("web-blazor");
        await using var catalog = await ConnectAsAsync("catalog-api");
        await using var worker = await ConnectAsAsync("ordering-worker");
        var cartKey = $"{CacheKeyspaces.CartPrefix}{Guid.NewGuid():N}";
        var cacheKey = $"v2:service-cache-user-tests:{Guid.NewGuid():N}";

        await site.GetDatabase().HashSetAsync(cartKey, "1", 2);
        await catalog.GetDatabase().StringSetAsync(cacheKey, "cached", TimeSpan.FromMinutes(1));

        await AssertRefusedAsync(() => site.GetDatabase().StringGetAsync(cacheKey));
        await AssertRefusedAsync(() => site.GetDatabase().KeyDeleteAsync(cacheKey));
        foreach (var cacheUser in new[] { catalog, worker })
        {
            await AssertRefusedAsync(() => cacheUser.GetDatabase().HashGetAllAsync(cartKey));
            await AssertRefusedAsync(() => cacheUser.GetDatabase().StringGetAsync($"{CacheKeyspaces.CheckoutPrefix}{Guid.NewGuid():N}:key"));
            await AssertRefusedAsync(() => cacheUser.GetDatabase().ListRangeAsync(CacheKeyspaces.SiteKeyRing));
            await AssertRefusedAsync(() => cacheUser.GetDatabase().ExecuteAsync("KEYS", "*"));
            await AssertRefusedAsync(() => cacheUser.GetDatabase().ExecuteAsync("FLUSHALL"));
        }

        // Within its keyspace each may do what it is there for.
        Assert.Equal(2, (int)await site.GetDatabase().HashGetAsync(cartKey, "1"));
        Assert.True(await worker.GetDatabase().KeyDeleteAsync(cacheKey));
        Assert.True(await site.GetDatabase().KeyDeleteAsync(cartKey));
    }

    [Fact]
    public async Task APurchaseIsServedWithoutOneRefusalOfAServicesUser()
    {
        // What touches Redis: the site's key ring, cart and checkout, the catalog's cache of the product, and the worker's
        // eviction of it (by tag, with the backplane) once the order took its stock; the product page cached it before.
        var product = await TestProducts.CreateAsync(graph.App, stock: 10);
        using var shopper = new ShopFrontClient(graph.App.GetEndpoint("web-blazor"));
        await shopper.AddToCartAsync(product.Id, 1);
        Assert.Matches("/orders/[0-9a-f-]{36}$", await shopper.SubmitCheckoutAsync(await shopper.FilledCheckoutFormAsync()));
        using var catalog = graph.App.CreateHttpClient("catalog-api");
        await Eventually.TrueAsync(
            async () => (await catalog.GetFromJsonAsync<ProductDto>($"/api/v1/products/{product.Id}"))!.AvailableStock == 9,
            TimeSpan.FromSeconds(30), "the cached product shows the stock the order took");

        await using var administrator = await ConnectionMultiplexer.ConnectAsync((await graph.App.GetConnectionStringAsync("cache"))!);
        var refusals = ((RedisResult[])(await administrator.GetDatabase().ExecuteAsync("ACL", "LOG", "128"))!)
            .Select(entry => entry.ToDictionary())
            .Where(entry => Services.Contains(entry["username"].ToString()) && !entry["client-info"].ToString().Contains($"name={IntruderClientName}", StringComparison.Ordinal))
            .Select(entry => $"{entry["username"]}: {entry["reason"]} {entry["object"]} ({entry["context"]})")
            .ToList();
        Assert.True(refusals.Count == 0, string.Join("\n", refusals));
    }

    private async Task<ConnectionMultiplexer> ConnectAsAsync(string service)
    {
        var options = ConfigurationOptions.Parse((await graph.App.GetConnectionStringAsync("cache"))!);
        options.User = service;
        options.Password = await SignedTestTokens.ParameterValueAsync(graph.App, $"cache-{service}-password");
        options.ClientName = IntruderClientName;
        options.TieBreaker = "";
        options.CommandMap = CommandMap.Create(new HashSet<string> { "CONFIG" }, available: false);
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    private static async Task AssertRefusedAsync(Func<Task> command)
    {
        var problem = await Assert.ThrowsAsync<RedisServerException>(command);
        Assert.StartsWith("NOPERM", problem.Message, StringComparison.Ordinal);
    }
}
