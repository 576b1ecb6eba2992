using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace AspireShop.Ordering.Sharding;

/// <summary>
/// The order shard map: which shard holds each bucket of buyers (<see cref="OrderBuckets"/>), the one truth every
/// service routes orders by, kept in the catalog database's server under a schema of its own (<c>sharding</c>).
/// </summary>
public sealed class OrderShardMapDbContext(DbContextOptions<OrderShardMapDbContext> options) : DbContext(options)
{
    public const string Schema = "sharding";

    private const string BucketMapTable = "bucket_map";

    /// <summary>The tables' schema-qualified names, for the hot paths that speak SQL.</summary>
    public static class Tables
    {
        public const string BucketMap = $"{Schema}.{BucketMapTable}";
    }

    public DbSet<BucketAssignment> BucketMap => Set<BucketAssignment>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<BucketAssignment>(bucket =>
        {
            bucket.ToTable(BucketMapTable);
            bucket.HasKey(b => b.Bucket);
            bucket.Property(b => b.Bucket).ValueGeneratedNever();
        });
    }
}

public sealed class BucketAssignment
{
    public int Bucket { get; set; }

    public int Shard { get; set; }
}

/// <summary>Lets <c>dotnet ef migrations add --context OrderShardMapDbContext</c> build the model without a database.</summary>
public sealed class OrderShardMapDesignTimeFactory : IDesignTimeDbContextFactory<OrderShardMapDbContext>
{
    public OrderShardMapDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<OrderShardMapDbContext>()
            .UseNpgsql("Host=design-time-only", npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory", OrderShardMapDbContext.Schema))
            .Options);
}
