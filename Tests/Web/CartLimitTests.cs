using StackExchange.Redis;
using Tests.Catalog;
using Tests.WholeGraph;
using Web.Blazor.Cart;

namespace Tests.Web;

/// <summary>The cart's caps hold on every write path: a buyer cannot grow a cart past its lines or fill it with products that do not exist.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class CartLimitTests(ShopGraphFixture graph)
{
    [Fact]
    public async Task NoCartFormGrowsACartPastItsCapOrPutsAnUnknownProductInIt()
    {
        using var shopper = new ShopFrontClient(graph.App.GetEndpoint("web-blazor"));
        var products = await TestProducts.CreateManyAsync(graph.App, CartStore.MaxLines + 3, stock: 100);
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await graph.App.GetConnectionStringAsync("cache"))!);
        var db = redis.GetDatabase();

        // The shopper's cart, found in Redis by the product only this test has: the cart page would show only lines
        // the catalog knows, so Redis itself is what the caps are checked against.
        Assert.Equal("/cart", await shopper.PostCartFormAsync("/cart/add", products[0], 1, products[0]));
        var cart = redis.GetServers().Single().Keys(pattern: "cart:*").Single(key => db.HashExists(key, products[0]));

        // A thousand quantity changes of distinct product ids that are not in the cart (as a script posting the
        // update form directly would send) change nothing, and say so.
        for (var i = 0; i < 1_000; i++)
        {
            Assert.Equal("/cart?problem=not-in-cart", await shopper.PostCartFormAsync("/cart/update", 2_000_000_000 + i, 2, products[0]));
        }

        Assert.Equal(1, await db.HashLengthAsync(cart));

        // Real products go in through /cart/add until the cart is full, and no further.
        foreach (var product in products[1..CartStore.MaxLines])
        {
            Assert.Equal("/cart", await shopper.PostCartFormAsync("/cart/add", product, 1, products[0]));
        }

        foreach (var product in products[CartStore.MaxLines..])
        {
            Assert.Equal($"/products/{product}?problem=full", await shopper.PostCartFormAsync("/cart/add", product, 1, products[0]));
        }

        Assert.Equal(CartStore.MaxLines, await db.HashLengthAsync(cart));

        // A product that does not exist is not added, whatever the form says.
        Assert.NotEqual("/cart", await shopper.PostCartFormAsync("/cart/add", 2_000_001_000, 1, products[0]));

        // A line in the cart still changes; one that is not still does not come in.
        Assert.Equal("/cart", await shopper.PostCartFormAsync("/cart/update", products[0], 5, products[0]));
        Assert.Equal("/cart?problem=not-in-cart", await shopper.PostCartFormAsync("/cart/update", products[^1], 5, products[0]));
        Assert.Equal(CartStore.MaxLines, await db.HashLengthAsync(cart));
        Assert.Equal(5, (int)await db.HashGetAsync(cart, products[0]));
        Assert.Equal(CartStore.MaxLines, await shopper.CartLinesAsync());
    }

    [Fact]
    public async Task ConcurrentAddsStopAtTheCap()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await graph.App.GetConnectionStringAsync("cache"))!);
        var carts = new CartStore(redis);
        var buyer = $"cart-{Guid.NewGuid():N}";

        var added = await Task.WhenAll(Enumerable.Range(1, CartStore.MaxLines * 3).Select(product => carts.AddAsync(buyer, product, 1)));

        Assert.Equal(CartStore.MaxLines, added.Count(ok => ok));
        Assert.Equal(CartStore.MaxLines, (await carts.GetAsync(buyer)).Count);
    }

    [Fact]
    public async Task AnOrderTakesOnlyWhatItOrderedOutOfTheCart()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await graph.App.GetConnectionStringAsync("cache"))!);
        var carts = new CartStore(redis);
        var buyer = $"cart-{Guid.NewGuid():N}";
        Assert.True(await carts.AddAsync(buyer, 1, 2));
        Assert.True(await carts.AddAsync(buyer, 2, 1));
        var ordered = await carts.GetAsync(buyer);

        // While the order is being placed, the buyer adds a product and one more of an ordered one in another tab.
        Assert.True(await carts.AddAsync(buyer, 3, 4));
        Assert.True(await carts.AddAsync(buyer, 1, 1));
        await carts.RemoveOrderedAsync(buyer, ordered);

        Assert.Equal(new Dictionary<int, int> { [1] = 1, [3] = 4 }, await carts.GetAsync(buyer));
    }
}
