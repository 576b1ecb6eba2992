using System.Net.Http.Json;
using AspireShop.Contracts;
using AspireShop.Ordering.Data;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Ordering.Api.Orders;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>What the order intake tests share: orders to submit, and reading the shards' outbox.</summary>
public abstract class OrderIntakeSteps(ShopGraphFixture graph)
{
    protected ShopGraphFixture Graph { get; } = graph;

    protected static readonly AddressRequest Address = new("1 Harbour Street", "Portsmouth", "PO1 2AB", "United Kingdom");

    protected static SubmitOrderRequest Order(params OrderLineRequest[] lines) => new([.. lines], "Ada Lovelace", "ada@example.com", Address);

    protected static HttpRequestMessage Submit(SubmitOrderRequest order, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders") { Content = JsonContent.Create(order) };
        if (key is not null)
        {
            request.Headers.Add(OrdersApi.IdempotencyKeyHeader, key);
        }

        return request;
    }

    protected static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    protected Task<bool> OutboxSentAsync(Guid orderId, TimeSpan within)
        => Eventually.UntilAsync(async () => await OrderShardDatabases.SumAsync(Graph.App,
                """SELECT count(*) FROM ordering.outbox WHERE "Payload"->>'orderId' = @id AND "SentAt" IS NOT NULL""", ("id", orderId.ToString())) > 0,
            sent => sent, within);
}
