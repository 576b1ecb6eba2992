using System.Net.Http.Json;
using Catalog.Api.Catalog;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Tests.WholeGraph;

namespace Tests.Catalog;

/// <summary>What the catalog scale tests share: connections to the primary and its standby, and reads through the API.</summary>
public abstract class CatalogScaleSteps(ShopGraphFixture graph)
{
    protected ShopGraphFixture Graph { get; } = graph;

    /// <summary>Runs <paramref name="test"/> against a new, empty database on the graph's primary, then drops it.</summary>
    protected async Task WithScratchDatabaseAsync(string prefix, Func<string, Task> test)
    {
        var database = $"{prefix}_{Guid.NewGuid():N}";
        var server = await Graph.App.GetConnectionStringAsync("catalogdb");
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
    protected static string InlineParameters(string queryString)
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

    protected async Task<string> StandbyConnectionStringAsync()
        => new NpgsqlConnectionStringBuilder(await Graph.App.GetConnectionStringAsync("postgres-replica1"))
        {
            Database = "catalog",
        }.ConnectionString;

    // A write through the API waits for the replicas and invalidates the product's cache entries.
    protected async Task RefreshThroughTheApiAsync(int productId)
    {
        using var api = Graph.App.CreateHttpClient("catalog-api");
        api.DefaultRequestHeaders.Authorization = new("Bearer", await CatalogAdminTokens.CreateAsync(Graph.App, "test-refresh"));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/products/{productId}");
        request.Headers.Add(ReadConsistency.HeaderName, ReadConsistency.TokenFor(DateTimeOffset.UtcNow));
        using var current = await api.SendAsync(request);
        var product = (await current.Content.ReadFromJsonAsync<ProductDto>())!;
        using var write = await api.PutAsJsonAsync($"/api/v1/products/{productId}/stock", new StockUpdateRequest(product.AvailableStock, product.Version));
        write.EnsureSuccessStatusCode();
    }

    protected static async Task<NpgsqlConnection> OpenAsync(string? connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    protected static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
