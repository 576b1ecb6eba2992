using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using RabbitMQ.Client;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Tests.WholeGraph;

/// <summary>The whole shop graph in processes mode: real PostgreSQL primary and standby, Redis, RabbitMQ and the three services.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class WholeGraphTests(ShopGraphFixture graph, ITestOutputHelper output)
{
    private static readonly TimeSpan ReplicationWait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task EveryResourceIsHealthy()
    {
        output.WriteLine($"All resources healthy {graph.TimeToHealthy.TotalSeconds:F1} s after start.");
        var notifications = graph.App.Services.GetRequiredService<ResourceNotificationService>();
        var model = graph.App.Services.GetRequiredService<DistributedApplicationModel>();

        string[] expected =
        [
            "postgres", "postgres-replica1", "catalogdb", "catalogdb-replica", "cache", "messaging", "messaging-epmd",
            "orders-shard1", "ordersdb-shard1", "orders-shard2", "ordersdb-shard2",
            "catalog-api", "ordering-api", "ordering-worker", "web-blazor",
        ];
        Assert.Subset(model.Resources.Select(r => r.Name).ToHashSet(), expected.ToHashSet());

        // Resources with replicas (the workers) report per replica; waiting by model name covers them.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var resource in model.Resources.Where(ShopGraph.StartsWithTheGraph))
        {
            var state = await notifications.WaitForResourceAsync(resource.Name,
                e => e.Snapshot.IsHidden || e.Snapshot.HealthStatus == HealthStatus.Healthy, timeout.Token);
            Assert.True(state.Snapshot.IsHidden || state.Snapshot.HealthStatus == HealthStatus.Healthy, $"{resource.Name} is not healthy");
        }
    }

    [Fact]
    public async Task RowWrittenOnThePrimaryIsReadBackFromTheReplica()
    {
        var table = $"replication_probe_{Guid.NewGuid():N}";
        var marker = Guid.NewGuid().ToString();

        await using (var primary = await OpenAsync("catalogdb"))
        {
            Assert.False(await ScalarAsync<bool>(primary, "SELECT pg_is_in_recovery()"));
            await ExecuteAsync(primary, $"CREATE TABLE {table} (marker text NOT NULL)");
            await using var insert = new NpgsqlCommand($"INSERT INTO {table} VALUES (@marker)", primary);
            insert.Parameters.AddWithValue("marker", marker);
            await insert.ExecuteNonQueryAsync();
        }

        await using var replica = await OpenAsync("catalogdb-replica");
        Assert.True(await ScalarAsync<bool>(replica, "SELECT pg_is_in_recovery()"), "catalogdb-replica should reach a standby");

        var seen = await Eventually.UntilAsync<string?>(
            () => ScalarAsync<string?>(replica, $"SELECT CASE WHEN to_regclass('{table}') IS NULL THEN NULL ELSE (SELECT marker FROM {table} LIMIT 1) END"),
            value => value is not null, ReplicationWait, TimeSpan.FromMilliseconds(50));
        Assert.Equal(marker, seen);
        var readOnly = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(replica, $"INSERT INTO {table} VALUES ('x')"));
        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, readOnly.SqlState);
    }

    [Fact]
    public async Task MessagePublishedToRabbitMQIsReceived()
    {
        var factory = new ConnectionFactory { Uri = new Uri((await graph.App.GetConnectionStringAsync("messaging"))!) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var queue = (await channel.QueueDeclareAsync(queue: "", durable: false, exclusive: true, autoDelete: true)).QueueName;

        var body = Encoding.UTF8.GetBytes($"probe {Guid.NewGuid()}");
        await channel.BasicPublishAsync(exchange: "", routingKey: queue, body: body);

        var received = await Eventually.UntilAsync<BasicGetResult?>(
            () => channel.BasicGetAsync(queue, autoAck: true), value => value is not null, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
        Assert.NotNull(received);
        Assert.Equal(body, received.Body.ToArray());
    }

    [Fact]
    public async Task RedisSetThenGetReturnsTheValue()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync((await graph.App.GetConnectionStringAsync("cache"))!);
        var database = redis.GetDatabase();
        var key = $"probe:{Guid.NewGuid():N}";
        var value = Guid.NewGuid().ToString();

        Assert.True(await database.StringSetAsync(key, value, TimeSpan.FromMinutes(1)));
        Assert.Equal(value, (string?)await database.StringGetAsync(key));
    }

    [Theory]
    [InlineData("catalog-api", "/health")]
    [InlineData("catalog-api", "/alive")]
    [InlineData("ordering-worker", "/health")]
    [InlineData("ordering-worker", "/alive")]
    [InlineData("web-blazor", "/health")]
    [InlineData("web-blazor", "/alive")]
    public async Task ServiceProbeAnswersHealthyWithoutConnectionDetails(string service, string path)
    {
        using var http = graph.App.CreateHttpClient(service);
        using var response = await http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
        foreach (var secretish in new[] { "Host=", "Password", "password", "amqp://", "localhost" })
        {
            Assert.DoesNotContain(secretish, body);
        }
    }

    [Theory]
    [InlineData("catalog-api", new[] { "CatalogDbContext", "CatalogReadDbContext", "catalog-schema", "cache" })]
    [InlineData("ordering-api", new[] { "OrderShardMapDbContext", "ordering-schema", "PostgreSql_catalogdb", "PostgreSql_ordersdb-shard1", "PostgreSql_ordersdb-shard2", "RabbitMQ.Client" })]
    [InlineData("ordering-worker", new[] { "PostgreSql_catalogdb", "PostgreSql_ordersdb-shard1", "PostgreSql_ordersdb-shard2", "StackExchange.Redis", "RabbitMQ.Client" })]
    [InlineData("web-blazor", new[] { "StackExchange.Redis", "catalog-api" })]
    public async Task ReadinessCoversEveryDependencyOfTheService(string service, string[] dependencies)
    {
        using var http = graph.App.CreateHttpClient(service);
        using var json = JsonDocument.Parse(await http.GetStringAsync("/health"));
        var checks = json.RootElement.GetProperty("checks");

        foreach (var dependency in dependencies)
        {
            Assert.True(checks.TryGetProperty(dependency, out var status), $"{service} /health lacks {dependency}");
            Assert.Equal("Healthy", status.GetString());
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(string connectionName)
    {
        var connection = new NpgsqlConnection(await graph.App.GetConnectionStringAsync(connectionName));
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var result = await command.ExecuteScalarAsync();
        return result is DBNull or null ? default! : (T)result;
    }
}
