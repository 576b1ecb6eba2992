using System.Text;

namespace AspireShop.Ordering.Sharding;

/// <summary>
/// Orders are placed in one of <see cref="Count"/> virtual buckets by their buyer, and the shard map says which shard
/// holds each bucket: adding a shard moves whole buckets, never rehashes every buyer. An order id carries its bucket,
/// so an order is found from its id alone.
/// </summary>
public static class OrderBuckets
{
    public const int Count = 64;
    private const int BucketBits = 0x3F;

    /// <summary>
    /// The buyer's bucket: FNV-1a over the UTF-8 buyer id. Stable across processes and versions, unlike
    /// <see cref="string.GetHashCode()"/>, which is randomised per process.
    /// </summary>
    public static int Of(string buyerId)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(buyerId))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash % Count);
    }

    /// <summary>The order's bucket, read from the id <see cref="NewOrderId"/> made.</summary>
    public static int Of(Guid orderId)
    {
        Span<byte> bytes = stackalloc byte[16];
        orderId.TryWriteBytes(bytes, bigEndian: true, out _);
        return bytes[15] & BucketBits;
    }

    /// <summary>A UUIDv7 (time-ordered, so index-friendly) whose last 6 bits, random in v7, are the bucket.</summary>
    public static Guid NewOrderId(int bucket, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bucket);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bucket, Count);
        Span<byte> bytes = stackalloc byte[16];
        Guid.CreateVersion7(now).TryWriteBytes(bytes, bigEndian: true, out _);
        bytes[15] = (byte)((bytes[15] & ~BucketBits) | bucket);
        return new Guid(bytes, bigEndian: true);
    }
}
