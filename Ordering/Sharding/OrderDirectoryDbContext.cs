using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace AspireShop.Ordering.Sharding;

/// <summary>
/// What every order shard needs one truth for, kept in the catalog database (schema <c>sharding</c>): the shard map,
/// and the stock reservation ledger (stock lives in the catalog, orders on their shards, so the worker records each
/// order's reservation here, in the same transaction as the stock change, before it decides the order on its shard).
/// </summary>
public sealed class OrderDirectoryDbContext(DbContextOptions<OrderDirectoryDbContext> options) : DbContext(options)
{
    public const string Schema = "sharding";

    private const string BucketMapTable = "bucket_map";
    private const string StockReservationsTable = "stock_reservations";

    /// <summary>The tables' schema-qualified names, for the hot paths that speak SQL.</summary>
    public static class Tables
    {
        public const string BucketMap = $"{Schema}.{BucketMapTable}";
        public const string StockReservations = $"{Schema}.{StockReservationsTable}";
    }

    public DbSet<BucketAssignment> BucketMap => Set<BucketAssignment>();

    public DbSet<StockReservation> StockReservations => Set<StockReservation>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.Entity<BucketAssignment>(bucket =>
        {
            bucket.ToTable(BucketMapTable);
            bucket.HasKey(b => b.Bucket);
            bucket.Property(b => b.Bucket).ValueGeneratedNever();
        });
        modelBuilder.Entity<StockReservation>(reservation =>
        {
            reservation.ToTable(StockReservationsTable);
            reservation.HasKey(r => r.OrderId);
            reservation.Property(r => r.RejectionReason).HasMaxLength(200);
        });
    }
}

public sealed class BucketAssignment
{
    public int Bucket { get; set; }

    public int Shard { get; set; }
}

/// <summary>The stock decision for one order: reserved, or why not. Written once; a retried order reads it back.</summary>
public sealed class StockReservation
{
    public Guid OrderId { get; set; }

    public bool Reserved { get; set; }

    public string? RejectionReason { get; set; }

    public DateTimeOffset DecidedAt { get; set; }
}

/// <summary>Lets <c>dotnet ef migrations add --context OrderDirectoryDbContext</c> build the model without a database.</summary>
public sealed class OrderDirectoryDesignTimeFactory : IDesignTimeDbContextFactory<OrderDirectoryDbContext>
{
    public OrderDirectoryDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<OrderDirectoryDbContext>()
            .UseNpgsql("Host=design-time-only", npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory", OrderDirectoryDbContext.Schema))
            .Options);
}
