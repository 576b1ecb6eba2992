using System.Net.Http.Json;
using System.Text.Json;
using Catalog.Api.Catalog;
using Catalog.Api.Catalog.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Tests.WholeGraph;

namespace Tests.Catalog;

/// <summary>Where catalog reads come from, and what happens when the cache or a replica misbehaves.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class CatalogScaleTests(ShopGraphFixture graph) : CatalogScaleSteps(graph)
{
    [Fact]
    public async Task ReplicasStartingTogetherMigrateAndSeedExactlyOnce()
    {
        await WithScratchDatabaseAsync("migration_race", async target =>
        {
            // Four "replicas" of Catalog.Api migrating the same empty database at the same moment.
            await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                await using var context = new CatalogDbContext(new DbContextOptionsBuilder<CatalogDbContext>()
                    .UseNpgsql(target)
                    .UseAsyncSeeding((db, _, ct) => CatalogSeed.SeedAsync(db, ct))
                    .Options);
                await CatalogSchema.MigrateAsync(context, CancellationToken.None);
            })));

            await using var check = new CatalogDbContext(new DbContextOptionsBuilder<CatalogDbContext>().UseNpgsql(target).Options);
            Assert.Equal(check.Database.GetMigrations().Count(), (await check.Database.GetAppliedMigrationsAsync()).Count());
            Assert.Equal(CatalogSeed.Brands.Length, await check.Brands.CountAsync());
            Assert.Equal(120, await check.Products.CountAsync());
        });
    }

    [Fact]
    public async Task NameSearchUsesTheTrigramIndexAt100kProducts()
    {
        await WithScratchDatabaseAsync("search_scale", async target =>
        {
            await using var context = new CatalogDbContext(new DbContextOptionsBuilder<CatalogDbContext>()
                .UseNpgsql(target).UseAsyncSeeding((db, _, ct) => CatalogSeed.SeedAsync(db, ct)).Options);
            await context.Database.MigrateAsync();
            await context.Database.ExecuteSqlRawAsync("""
                INSERT INTO products ("Name", "Description", "Price", "BrandId", "TypeId", "AvailableStock")
                SELECT 'Generated ' || md5(n::text), '', 10, 1 + n % 8, 1 + n % 6, 5 FROM generate_series(1, 100000) AS n;
                ANALYZE products;
                """);

            // The SQL the list endpoint runs for ?search=..., as EF generates it, with its parameters written in.
            var sql = InlineParameters(context.Products
                .Where(p => EF.Functions.ILike(p.Name, "%a1b2c%", @"\")).OrderBy(p => p.Id).Take(12).ToQueryString());
            await using var connection = await OpenAsync(target);
            await using var explain = new NpgsqlCommand($"EXPLAIN {sql}", connection);
            var plan = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    plan.Add(reader.GetString(0));
                }
            }

            Assert.Contains(plan, line => line.Contains("IX_products_Name"));
        });
    }
}
