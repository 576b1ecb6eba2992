using Microsoft.EntityFrameworkCore;

namespace AspireShop.Ordering.Data;

/// <summary>
/// Orders, their outbox and the order processor's inbox, in their own schema with their own migrations, on each order
/// shard's primary (a database of its own, apart from the catalog); <see cref="OwnedBuckets"/> says which buckets the
/// shard holds.
/// </summary>
public sealed class OrderingDbContext(DbContextOptions<OrderingDbContext> options) : DbContext(options)
{
    public const string Schema = "ordering";

    private const string OrdersTable = "orders";
    private const string OrderLinesTable = "order_lines";
    private const string OutboxTable = "outbox";
    private const string InboxTable = "inbox";
    private const string OwnedBucketsTable = "owned_buckets";
    private const string MailOwedTable = "mail_owed";

    /// <summary>The tables' schema-qualified names, for the hot paths that speak SQL (<see cref="ShardOrders"/>).</summary>
    public static class Tables
    {
        public const string Orders = $"{Schema}.{OrdersTable}";
        public const string OrderLines = $"{Schema}.{OrderLinesTable}";
        public const string Outbox = $"{Schema}.{OutboxTable}";
        public const string Inbox = $"{Schema}.{InboxTable}";
        public const string OwnedBuckets = $"{Schema}.{OwnedBucketsTable}";
        public const string MailOwed = $"{Schema}.{MailOwedTable}";
    }

    public DbSet<Order> Orders => Set<Order>();

    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();

    public DbSet<OwnedBucket> OwnedBuckets => Set<OwnedBucket>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);

        modelBuilder.Entity<Order>(order =>
        {
            order.ToTable(OrdersTable);
            order.Property(o => o.BuyerId).HasMaxLength(100);
            order.Property(o => o.IdempotencyKey).HasMaxLength(100);
            order.Property(o => o.BuyerName).HasMaxLength(100);
            order.Property(o => o.Email).HasMaxLength(254);
            order.Property(o => o.Status).HasConversion<string>().HasMaxLength(20);
            order.Property(o => o.RejectionReason).HasMaxLength(200);
            order.Property(o => o.Total).HasPrecision(12, 2);
            order.OwnsOne(o => o.ShippingAddress, address =>
            {
                address.Property(a => a.Street).HasMaxLength(200);
                address.Property(a => a.City).HasMaxLength(100);
                address.Property(a => a.PostalCode).HasMaxLength(20);
                address.Property(a => a.Country).HasMaxLength(100);
            });
            order.HasIndex(o => new { o.BuyerId, o.IdempotencyKey }).IsUnique();
            order.HasIndex(o => new { o.BuyerId, o.SubmittedAt });
            order.HasIndex(o => o.Bucket);
            order.HasMany(o => o.Lines).WithOne().HasForeignKey(l => l.OrderId).OnDelete(DeleteBehavior.Cascade);
            order.HasOne(o => o.MailOwed).WithOne().HasForeignKey<MailOwed>(m => m.OrderId).OnDelete(DeleteBehavior.Cascade);

            // An order row is written once and updated twice (decided, mail sent), and no index covers what those updates
            // change: with room left on its page an update is HOT and writes no index entries. The worker decides up to
            // 100 orders in one transaction, often every row of a page at once, and a row's old version stays until that
            // commits: each page keeps half its room free, so all its rows can take a new version together (at 80%, a
            // single shard's batches made only 58% of updates HOT).
            order.HasStorageParameter("fillfactor", 50);
        });

        modelBuilder.Entity<MailOwed>(owed =>
        {
            owed.ToTable(MailOwedTable);
            owed.HasKey(m => m.OrderId);
            owed.HasIndex(m => m.DecidedAt);
        });

        modelBuilder.Entity<OrderLine>(line =>
        {
            line.ToTable(OrderLinesTable);
            line.HasKey(l => new { l.OrderId, l.ProductId });
            line.Property(l => l.ProductName).HasMaxLength(100);
            line.Property(l => l.UnitPrice).HasPrecision(10, 2);
        });

        modelBuilder.Entity<InboxMessage>(message =>
        {
            message.ToTable(InboxTable);
            message.HasKey(m => m.MessageId);
            message.HasIndex(m => m.Bucket);
        });

        modelBuilder.Entity<OwnedBucket>(owned =>
        {
            owned.ToTable(OwnedBucketsTable);
            owned.HasKey(o => o.Bucket);
            owned.Property(o => o.Bucket).ValueGeneratedNever();
        });

        modelBuilder.Entity<OutboxMessage>(message =>
        {
            message.ToTable(OutboxTable);
            message.Property(m => m.Type).HasMaxLength(100);
            message.Property(m => m.Payload).HasColumnType("jsonb");
            message.Property(m => m.TraceParent).HasMaxLength(55);
            message.HasIndex(m => m.MessageId).IsUnique();
            message.HasIndex(m => m.Bucket);
            // The relay only ever looks for unsent messages: a partial index stays small however long the history.
            message.HasIndex(m => m.Id).HasFilter("\"SentAt\" IS NULL").HasDatabaseName("IX_outbox_pending");
        });
    }
}
