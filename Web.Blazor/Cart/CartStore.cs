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

    /// <summary>Adds to the quantity already in the cart (capped at <see cref="MaxQuantity"/>); false when the cart is full.</summary>
    public async Task<bool> AddAsync(string buyerId, int productId, int quantity)
    {
        var cart = await GetAsync(buyerId);
        if (!cart.ContainsKey(productId) && cart.Count >= MaxLines)
        {
            return false;
        }

        var total = Math.Clamp(cart.GetValueOrDefault(productId) + quantity, 1, MaxQuantity);
        await SetAsync(buyerId, productId, total);
        return true;
    }

    public Task SetAsync(string buyerId, int productId, int quantity)
        => RunAsync(async db =>
        {
            var transaction = db.CreateTransaction();
            _ = transaction.HashSetAsync(Key(buyerId), productId, Math.Clamp(quantity, 1, MaxQuantity));
            _ = transaction.KeyExpireAsync(Key(buyerId), KeepFor);
            return await transaction.ExecuteAsync();
        });

    public Task RemoveAsync(string buyerId, int productId)
        => RunAsync(db => db.HashDeleteAsync(Key(buyerId), productId));

    public Task ClearAsync(string buyerId)
        => RunAsync(db => db.KeyDeleteAsync(Key(buyerId)));

    /// <summary>
    /// Remembers which order a checkout (by its idempotency key) became, so a second submit of the same form, arriving
    /// after the first has emptied the cart, is sent to that order instead of failing on an empty cart.
    /// </summary>
    public Task RememberCheckoutAsync(string buyerId, string checkoutKey, Guid orderId)
        => RunAsync(db => db.StringSetAsync($"checkout:{buyerId}:{checkoutKey}", orderId.ToString(), TimeSpan.FromDays(1)));

    public async Task<Guid?> FindCheckoutAsync(string buyerId, string checkoutKey)
        => Guid.TryParse((string?)await RunAsync(db => db.StringGetAsync($"checkout:{buyerId}:{checkoutKey}")), out var orderId) ? orderId : null;

    private static RedisKey Key(string buyerId) => $"cart:{buyerId}";

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
