using System.Net;
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
public sealed class CatalogScaleTests(ShopGraphFixture graph)
{
    [Fact]
    public async Task PlainReadsComeFromTheReplicaAndReadYourWritesFromThePrimary()
    {
        var marker = $"changed behind the replica {Guid.NewGuid():N}";
        await using var standby = await OpenAsync(await StandbyConnectionStringAsync());
        await using var primary = await OpenAsync(await graph.App.GetConnectionStringAsync("catalogdb"));
        using var api = graph.App.CreateHttpClient("catalog-api");
        var probe = (await TestProducts.CreateAsync(graph.App)).Id;

        // The standby keeps answering reads, from the state it had when replay was paused.
        await ExecuteAsync(standby, "SELECT pg_wal_replay_pause()");
        try
        {
            await ExecuteAsync(primary, $"UPDATE products SET \"Description\" = '{marker}' WHERE \"Id\" = {probe}");

            var plain = await api.GetFromJsonAsync<ProductDto>($"/api/v1/products/{probe}");
            Assert.NotEqual(marker, plain!.Description);

            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/products/{probe}");
            request.Headers.Add(ReadConsistency.HeaderName, ReadConsistency.TokenFor(DateTimeOffset.UtcNow));
            using var ownWrite = await api.SendAsync(request);
            Assert.Equal(marker, (await ownWrite.Content.ReadFromJsonAsync<ProductDto>())!.Description);
            Assert.Contains("no-cache", ownWrite.Headers.CacheControl!.ToString());
        }
        finally
        {
            await ExecuteAsync(standby, "SELECT pg_wal_replay_resume()");
            await RefreshThroughTheApiAsync(probe);
        }
    }

    [Fact]
    public async Task ReadsKeepWorkingWhileRedisIsDownAndHealthSaysDegraded()
    {
        using var api = graph.App.CreateHttpClient("catalog-api");
        var uncached = await TestProducts.CreateAsync(graph.App);

        await using (await graph.App.StopAsync("cache"))
        {
            using var page = await api.GetAsync($"/api/v1/products?search={Uri.EscapeDataString(uncached.Name)}&pageSize=7");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            using var product = await api.GetAsync($"/api/v1/products/{uncached.Id}");
            Assert.Equal(HttpStatusCode.OK, product.StatusCode);

            using var health = JsonDocument.Parse(await api.GetStringAsync("/health"));
            Assert.Equal("Degraded", health.RootElement.GetProperty("status").GetString());
            Assert.Equal("Degraded", health.RootElement.GetProperty("checks").GetProperty("cache").GetString());
        }
    }

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
                await context.Database.MigrateAsync();
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

    /// <summary>Runs <paramref name="test"/> against a new, empty database on the graph's primary, then drops it.</summary>
    private async Task WithScratchDatabaseAsync(string prefix, Func<string, Task> test)
    {
        var database = $"{prefix}_{Guid.NewGuid():N}";
        var server = await graph.App.GetConnectionStringAsync("catalogdb");
        await using (var admin = await OpenAsync(server))
        {
            await ExecuteAsync(admin, $"CREATE DATABASE {database}");
        }

        try
        {
            await test(new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = await OpenAsync(server);
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    // ToQueryString writes parameters as "-- @name='value'" lines above the statement.
    private static string InlineParameters(string queryString)
    {
        var lines = queryString.Split('\n');
        var statement = string.Join('\n', lines.Where(line => !line.StartsWith("-- ", StringComparison.Ordinal)));
        foreach (var parameter in lines.Where(line => line.StartsWith("-- @", StringComparison.Ordinal)))
        {
            var separator = parameter.IndexOf('=');
            statement = statement.Replace(parameter[3..separator], parameter[(separator + 1)..].Trim().Trim('\''));
        }

        return statement;
    }

    private async Task<string> StandbyConnectionStringAsync()
        => new NpgsqlConnectionStringBuilder(await graph.App.GetConnectionStringAsync("postgres-replica1"))
        {
            Database = "catalog",
        }.ConnectionString;

    // A write through the API waits for the replicas and invalidates the product's cache entries.
    private async Task RefreshThroughTheApiAsync(int productId)
    {
        using var api = graph.App.CreateHttpClient("catalog-api");
        api.DefaultRequestHeaders.Authorization = new("Bearer", await CatalogAdminTokens.CreateAsync(graph.App, "test-refresh"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/products/{productId}");
        request.Headers.Add(ReadConsistency.HeaderName, ReadConsistency.TokenFor(DateTimeOffset.UtcNow));
        using var current = await api.SendAsync(request);
        var product = (await current.Content.ReadFromJsonAsync<ProductDto>())!;
        using var write = await api.PutAsJsonAsync($"/api/v1/products/{productId}/stock", new StockUpdateRequest(product.AvailableStock, product.Version));
        write.EnsureSuccessStatusCode();
    }

    private static async Task<NpgsqlConnection> OpenAsync(string? connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
