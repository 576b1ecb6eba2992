using AspireShop.Catalog.Stock;
using Microsoft.EntityFrameworkCore;

namespace Catalog.Api.Catalog.Data;

/// <summary>The catalog on the PRIMARY: every write, and reads that must see the latest commit.</summary>
public class CatalogDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Product> Products => Set<Product>();

    public DbSet<CatalogBrand> Brands => Set<CatalogBrand>();

    public DbSet<CatalogType> Types => Set<CatalogType>();

    /// <summary>The stock ledger: each order's stock decision, written by <see cref="CatalogStock"/> with the stock change.</summary>
    public DbSet<StockReservation> StockReservations => Set<StockReservation>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Trigram indexes make the case-insensitive "name contains" search an index scan at 100k products.
        modelBuilder.HasPostgresExtension("pg_trgm");

        modelBuilder.Entity<CatalogBrand>(brand =>
        {
            brand.ToTable("brands");
            brand.Property(b => b.Name).HasMaxLength(50);
            brand.HasIndex(b => b.Name).IsUnique();
        });

        modelBuilder.Entity<CatalogType>(type =>
        {
            type.ToTable("types");
            type.Property(t => t.Name).HasMaxLength(50);
            type.HasIndex(t => t.Name).IsUnique();
        });

        modelBuilder.Entity<Product>(product =>
        {
            product.ToTable(CatalogTables.Products);
            product.Property(p => p.Name).HasMaxLength(Product.NameMaxLength);
            product.Property(p => p.Description).HasMaxLength(Product.DescriptionMaxLength);
            product.Property(p => p.Price).HasPrecision(10, 2);
            product.Property(p => p.Version).IsRowVersion();
            product.HasOne(p => p.Brand).WithMany().HasForeignKey(p => p.BrandId).OnDelete(DeleteBehavior.Restrict);
            product.HasOne(p => p.Type).WithMany().HasForeignKey(p => p.TypeId).OnDelete(DeleteBehavior.Restrict);
            product.HasIndex(p => p.Name).HasMethod("gin").HasOperators("gin_trgm_ops");
            product.HasIndex(p => new { p.BrandId, p.Id });
            product.HasIndex(p => new { p.TypeId, p.Id });
            product.ToTable(t => t.HasCheckConstraint("ck_products_stock_not_negative", "\"AvailableStock\" >= 0"));
            product.ToTable(t => t.HasCheckConstraint("ck_products_price_positive", "\"Price\" > 0"));
        });

        modelBuilder.Entity<StockReservation>(reservation =>
        {
            reservation.ToTable(CatalogTables.StockReservations);
            reservation.HasKey(r => r.OrderId);
            reservation.Property(r => r.RejectionReason).HasMaxLength(StockReservation.RejectionReasonMaxLength);
        });
    }
}

/// <summary>
/// The catalog on the READ REPLICAS (connection string <c>catalogdb-replica</c>): no tracking, and PostgreSQL itself
/// refuses writes on a standby. Same model, so the same LINQ runs on either side.
/// </summary>
public sealed class CatalogReadDbContext(DbContextOptions<CatalogReadDbContext> options) : CatalogDbContext(options)
{
    public override int SaveChanges(bool acceptAllChangesOnSuccess)
        => throw new InvalidOperationException("The read replica context is read-only; write through CatalogDbContext.");

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
        => throw new InvalidOperationException("The read replica context is read-only; write through CatalogDbContext.");
}
