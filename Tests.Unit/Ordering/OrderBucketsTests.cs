using AspireShop.Ordering.Sharding;

namespace Tests.Unit.Ordering;

public sealed class OrderBucketsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("", 5)] // FNV-1a's offset basis alone: 2166136261 mod 64
    [InlineData("buyer-1", 42)]
    public void ABuyersBucketIsFnv1aOfTheUtf8IdModulo64(string buyerId, int bucket)
        => Assert.Equal(bucket, OrderBuckets.Of(buyerId));

    [Fact]
    public void BuyersSpreadOverEveryBucket()
    {
        var counts = Enumerable.Range(0, 64_000).GroupBy(i => OrderBuckets.Of($"buyer-{i}")).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(OrderBuckets.Count, counts.Count);
        Assert.All(counts.Values, count => Assert.InRange(count, 800, 1_200));
    }

    [Fact]
    public void AnOrderIdCarriesItsBucket()
    {
        foreach (var bucket in Enumerable.Range(0, OrderBuckets.Count))
        {
            var id = OrderBuckets.NewOrderId(bucket, Now);

            Assert.Equal(bucket, OrderBuckets.Of(id));
            Assert.Equal(7, id.Version);
        }
    }

    [Fact]
    public void OrderIdsAreTimeOrdered()
    {
        var earlier = OrderBuckets.NewOrderId(63, Now);
        var later = OrderBuckets.NewOrderId(0, Now.AddMilliseconds(1));

        Assert.True(string.CompareOrdinal(earlier.ToString(), later.ToString()) < 0);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(64)]
    public void ThereIsNoBucketOutsideTheRange(int bucket)
        => Assert.Throws<ArgumentOutOfRangeException>(() => OrderBuckets.NewOrderId(bucket, Now));

    [Fact]
    public void TheInitialMapPutsBucketBOnShardBModNPlusOne()
    {
        var owners = OrderShardMap.InitialOwners(shardCount: 3);

        Assert.Equal(OrderBuckets.Count, owners.Length);
        Assert.Equal([1, 2, 3, 1], owners[..4]);
        Assert.Equal([22, 21, 21], Enumerable.Range(1, 3).Select(shard => owners.Count(owner => owner == shard)));
    }
}
