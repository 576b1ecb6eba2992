using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Catalog.Api.Catalog.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
public sealed class CatalogDesignTimeFactory : IDesignTimeDbContextFactory<CatalogDbContext>
{
    public CatalogDbContext CreateDbContext(string[] args)
        => new(new DbContextOptionsBuilder<CatalogDbContext>().UseNpgsql("Host=design-time-only").Options);
}
