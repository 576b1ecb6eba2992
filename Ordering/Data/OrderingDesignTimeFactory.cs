using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace AspireShop.Ordering.Data;

/// <summary>Lets <c>dotnet ef migrations add --context OrderingDbContext</c> build the model without a database.</summary>
public sealed class OrderingDesignTimeFactory : IDesignTimeDbContextFactory<OrderingDbContext>
{
    public OrderingDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<OrderingDbContext>()
            .UseNpgsql("Host=design-time-only", npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory", OrderingDbContext.Schema))
            .Options);
}
