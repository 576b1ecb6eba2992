using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Tests.Ordering;

/// <summary>The graph's order shards, for tests that look at order data directly: a query runs on every shard.</summary>
public static class OrderShardDatabases
{
    public static int Count(DistributedApplication app)
        => app.Services.GetRequiredService<DistributedApplicationModel>().Resources.Count(r => r.Name.StartsWith("ordersdb-shard", StringComparison.Ordinal));

    public static async Task<string> ConnectionStringAsync(DistributedApplication app, int shard)
        => (await app.GetConnectionStringAsync($"ordersdb-shard{shard}"))!;

    public static async Task<List<NpgsqlConnection>> OpenAllAsync(DistributedApplication app)
    {
        var connections = new List<NpgsqlConnection>();
        for (var shard = 1; shard <= Count(app); shard++)
        {
            var connection = new NpgsqlConnection(await ConnectionStringAsync(app, shard));
            await connection.OpenAsync();
            connections.Add(connection);
        }

        return connections;
    }

    /// <summary>Runs a count (or any bigint) query on every shard, with its parameters, and adds the answers.</summary>
    public static async Task<long> SumAsync(DistributedApplication app, string sql, params (string Name, object Value)[] parameters)
    {
        long total = 0;
        foreach (var connection in await OpenAllAsync(app))
        {
            await using (connection)
            {
                await using var command = new NpgsqlCommand(sql, connection);
                foreach (var (name, value) in parameters)
                {
                    command.Parameters.AddWithValue(name, value);
                }

                total += (long)(await command.ExecuteScalarAsync())!;
            }
        }

        return total;
    }

    /// <summary>Runs a statement on every shard (e.g. creating a trigger).</summary>
    public static async Task ExecuteAsync(DistributedApplication app, string sql)
    {
        foreach (var connection in await OpenAllAsync(app))
        {
            await using (connection)
            {
                await using var command = new NpgsqlCommand(sql, connection);
                await command.ExecuteNonQueryAsync();
            }
        }
    }

    /// <summary>The rows a query returns on every shard, each read by <paramref name="read"/>.</summary>
    public static async Task<List<T>> RowsAsync<T>(DistributedApplication app, string sql, Func<NpgsqlDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        var rows = new List<T>();
        foreach (var connection in await OpenAllAsync(app))
        {
            await using (connection)
            {
                await using var command = new NpgsqlCommand(sql, connection);
                foreach (var (name, value) in parameters)
                {
                    command.Parameters.AddWithValue(name, value);
                }

                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    rows.Add(read(reader));
                }
            }
        }

        return rows;
    }
}
