using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AspireShop.Ordering.Sharding;
using Npgsql;
using Ordering.Api.Orders;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>What the sharding tests share: buyers in a chosen bucket, products with stock to spare, submitting orders, waiting for decisions.</summary>
public abstract class OrderShardingSteps(ShopGraphFixture graph)
{
    protected ShopGraphFixture Graph { get; } = graph;

    protected static readonly AddressRequest Address = new("3 Shard Lane", "York", "YO1 7HH", "United Kingdom");

    protected static List<string> BuyersIn(int bucket, int count)
        => [.. Enumerable.Range(0, int.MaxValue).Select(i => $"mover-{i}-{Guid.NewGuid():N}").Where(b => OrderBuckets.Of(b) == bucket).Take(count)];

    protected async Task<int> OwnerOfAsync(int bucket)
    {
        await using var catalog = new NpgsqlConnection(await Graph.App.GetConnectionStringAsync("catalogdb"));
        await catalog.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "Shard" FROM sharding.bucket_map WHERE "Bucket" = @bucket""", catalog);
        command.Parameters.AddWithValue("bucket", bucket);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Products of the test's own, with stock for every order it places.</summary>
    protected Task<int[]> ProductsAsync() => TestProducts.CreateManyAsync(Graph.App, 10, stock: 1_000_000);

    protected static async Task<OrderDto> SubmitAsync(HttpClient buyer, int productId, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
        {
            Content = JsonContent.Create(new SubmitOrderRequest([new(productId, 1)], "Ada Shard", "ada@example.com", Address)),
        };
        request.Headers.Add(OrdersApi.IdempotencyKeyHeader, idempotencyKey);
        using var response = await buyer.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<OrderDto>())!;
    }

    /// <summary>
    /// As a client that honours 503 does: while the bucket is frozen for longer than the API waits (a slow move on a
    /// busy machine), the same order is sent again with the same key, which can only ever make one order.
    /// </summary>
    protected static async Task<OrderDto> SubmitRetryingAsync(HttpClient buyer, int productId, string idempotencyKey)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
            {
                Content = JsonContent.Create(new SubmitOrderRequest([new(productId, 1)], "Ada Shard", "ada@example.com", Address)),
            };
            request.Headers.Add(OrdersApi.IdempotencyKeyHeader, idempotencyKey);
            using var response = await buyer.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 10)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                continue;
            }

            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<OrderDto>())!;
        }
    }

    protected Task WaitUntilDecidedAsync(Guid[] ids)
        => Eventually.TrueAsync(async () => await OrderShardDatabases.SumAsync(Graph.App,
                """SELECT count(*) FROM ordering.orders WHERE "Id" = ANY(@ids) AND "Status" = 'Submitted'""", ("ids", ids)) == 0,
            TimeSpan.FromMinutes(2), "every order decided", TimeSpan.FromMilliseconds(250));

    /// <summary>Runs the operator's command as an operator would: Ordering.Api's program with the shop's connection strings.</summary>
    protected async Task<(int ExitCode, string Output)> RunShardsCommandAsync(params string[] arguments)
    {
        using var process = await StartShardsCommandAsync(arguments);
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    /// <summary>Starts the operator's command (Ordering.Api's program with the shop's connection strings) and returns at once.</summary>
    protected async Task<Process> StartShardsCommandAsync(params string[] arguments)
    {
        var program = Path.Combine(RepositoryPaths.Root, "Ordering.Api", "bin",
            Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/')))!, "net10.0", "Ordering.Api.dll");
        var start = new ProcessStartInfo("dotnet", [program, ShardsCommandVerb, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ConnectionStrings__catalogdb"] = await Graph.App.GetConnectionStringAsync("catalogdb");
        for (var shard = 1; shard <= OrderShardDatabases.Count(Graph.App); shard++)
        {
            start.Environment[$"ConnectionStrings__ordersdb-shard{shard}"] = await OrderShardDatabases.ConnectionStringAsync(Graph.App, shard);
        }

        return Process.Start(start)!;
    }

    protected const string ShardsCommandVerb = global::Ordering.Api.Sharding.ShardsCommand.Verb;
}
