using Npgsql;

namespace Tests.Ordering;

/// <summary>The graph's orders database (the Citus coordinator), for tests that look at order data directly.</summary>
public static class OrdersDatabase
{
    public static async Task<string> ConnectionStringAsync(DistributedApplication app)
        => (await app.GetConnectionStringAsync("ordersdb"))!;

    public static async Task<NpgsqlConnection> OpenAsync(DistributedApplication app)
    {
        var connection = new NpgsqlConnection(await ConnectionStringAsync(app));
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>Runs a count (or any bigint) query, with its parameters.</summary>
    public static async Task<long> SumAsync(DistributedApplication app, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(app);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Runs a statement (e.g. creating a trigger, which Citus puts on every shard).</summary>
    public static async Task ExecuteAsync(DistributedApplication app, string sql)
    {
        await using var connection = await OpenAsync(app);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The rows a query returns, each read by <paramref name="read"/>.</summary>
    public static async Task<List<T>> RowsAsync<T>(DistributedApplication app, string sql, Func<NpgsqlDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(app);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
