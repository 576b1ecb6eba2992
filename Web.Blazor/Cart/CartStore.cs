using AspireShop.Contracts;
using StackExchange.Redis;

namespace Web.Blazor.Cart;

/// <summary>The cart could not be read or changed because Redis is unavailable; browsing goes on without it.</summary>
public sealed class CartUnavailableException(Exception inner) : Exception("The cart is unavailable.", inner);

/// <summary>
/// Each buyer's cart as a Redis hash (product id -> quantity), shared by every replica of the site and kept for
/// <see cref="KeepFor"/> after the last change. Quantities are bounded here as the order API bounds them.
/// </summary>
public sealed class CartStore(IConnectionMultiplexer redis)
{
    public const int MaxQuantity = 100;
    public const int MaxLines = 50;
    public static readonly TimeSpan KeepFor = TimeSpan.FromDays(30);

    public async Task<IReadOnlyDictionary<int, int>> GetAsync(string buyerId)
    {
        var entries = await RunAsync(db => db.HashGetAllAsync(Key(buyerId)));
        return entries
            .Where(e => int.TryParse(e.Name.ToString(), out _) && e.Value.TryParse(out int _))
            .ToDictionary(e => int.Parse(e.Name.ToString(), System.Globalization.CultureInfo.InvariantCulture), e => (int)e.Value);
    }

    public async Task<int> CountAsync(string buyerId)
        => (int)await RunAsync(db => db.HashLengthAsync(Key(buyerId)));

    /// <summary>
    /// Adds to the quantity already in the cart (capped at <see cref="MaxQuantity"/>); false when the product is not in
    /// the cart and the cart already has <see cref="MaxLines"/> lines. The caller has checked that the product exists.
    /// </summary>
    public async Task<bool> AddAsync(string buyerId, int productId, int quantity)
        => (int)await RunAsync(db => db.ScriptEvaluateAsync(AddLine, [Key(buyerId)],
            [productId, quantity, MaxLines, MaxQuantity, (long)KeepFor.TotalSeconds])) == 1;

    /// <summary>Changes the quantity of a line already in the cart; false (nothing written) when the product is not in it.</summary>
    public async Task<bool> SetAsync(string buyerId, int productId, int quantity)
        => (int)await RunAsync(db => db.ScriptEvaluateAsync(ChangeLine, [Key(buyerId)],
            [productId, Math.Clamp(quantity, 1, MaxQuantity), (long)KeepFor.TotalSeconds])) == 1;

    // Each check and its write in one Lua script, which Redis runs atomically: a read, then a write from the client,
    // would let two concurrent adds both find room for the fiftieth line.
    private const string AddLine = """
        local current = redis.call('HGET', KEYS[1], ARGV[1])
        if not current and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
        local total = math.max(1, math.min((tonumber(current) or 0) + tonumber(ARGV[2]), tonumber(ARGV[4])))
        redis.call('HSET', KEYS[1], ARGV[1], total)
        redis.call('EXPIRE', KEYS[1], ARGV[5])
        return 1
        """;

    private const string ChangeLine = """
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('EXPIRE', KEYS[1], ARGV[3])
        return 1
        """;

    /// <summary>Removes a line; false when the product was not in the cart.</summary>
    public Task<bool> RemoveAsync(string buyerId, int productId)
        => RunAsync(db => db.HashDeleteAsync(Key(buyerId), productId));

    /// <summary>
    /// Takes what an order took out of the cart: each ordered line's quantity, so a product added (or a quantity raised)
    /// in another tab while the order was placed stays in the cart.
    /// </summary>
    public Task RemoveOrderedAsync(string buyerId, IReadOnlyDictionary<int, int> ordered)
        => RunAsync(db => db.ScriptEvaluateAsync(TakeOrdered, [Key(buyerId)],
            [.. ordered.SelectMany(line => new RedisValue[] { line.Key, line.Value })]));

    private const string TakeOrdered = """
        for i = 1, #ARGV, 2 do
          local left = (tonumber(redis.call('HGET', KEYS[1], ARGV[i])) or 0) - tonumber(ARGV[i + 1])
          if left > 0 then redis.call('HSET', KEYS[1], ARGV[i], left) else redis.call('HDEL', KEYS[1], ARGV[i]) end
        end
        return 1
        """;

    /// <summary>
    /// Remembers which order a checkout (by its idempotency key) became, so a second submit of the same form, arriving
    /// after the first has emptied the cart, is sent to that order instead of failing on an empty cart.
    /// </summary>
    /// <returns>True for the first submit to remember it; false when another submit of the form already had.</returns>
    public Task<bool> RememberCheckoutAsync(string buyerId, string checkoutKey, Guid orderId)
        => RunAsync(db => db.StringSetAsync($"{CacheKeyspaces.CheckoutPrefix}{buyerId}:{checkoutKey}", orderId.ToString(), TimeSpan.FromDays(1), When.NotExists));

    public async Task<Guid?> FindCheckoutAsync(string buyerId, string checkoutKey)
        => Guid.TryParse((string?)await RunAsync(db => db.StringGetAsync($"{CacheKeyspaces.CheckoutPrefix}{buyerId}:{checkoutKey}")), out var orderId) ? orderId : null;

    private static RedisKey Key(string buyerId) => $"{CacheKeyspaces.CartPrefix}{buyerId}";

    private async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation)
    {
        try
        {
            return await operation(redis.GetDatabase());
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            throw new CartUnavailableException(e);
        }
    }
}
