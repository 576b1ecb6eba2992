namespace AspireShop.Contracts;

/// <summary>
/// Every PostgreSQL advisory lock the shop takes, in one list so no two uses share an id by accident. Single-key locks
/// are one bigint; <see cref="BucketClass"/> is the first key of two-key locks whose second key is the bucket.
/// </summary>
public static class AdvisoryLocks
{
    /// <summary>Seeding the catalog: replicas starting together seed once.</summary>
    public const long CatalogSeed = 7261734;

    /// <summary>
    /// Migrating the ordering databases and writing the first shard map: one starting process at a time, the others
    /// find it done.
    /// </summary>
    public const long OrderingSchema = 7261735;

    /// <summary>A bucket of orders on a shard: shared by everyday work, exclusive while a move freezes the bucket.</summary>
    public const int BucketClass = 7261736;
}
