using System.Net;
using System.Net.Http.Json;
using System.Text;
using AspireShop.Ordering.Data;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Ordering.Api.Orders;
using Tests.Catalog;
using Tests.WholeGraph;

namespace Tests.Ordering;

/// <summary>Order intake through the running graph: accepted once, stored with its message, relayed to RabbitMQ.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class OrderIntakeTests(ShopGraphFixture graph) : OrderIntakeSteps(graph)
{
    [Fact]
    public async Task SubmittedOrderIsAcceptedPricedByTheCatalogAndReadable()
    {
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, $"buyer-{Guid.NewGuid():N}");
        using var response = await buyer.SendAsync(Submit(Order(new(2, 2), new(3, 1)), Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var order = (await response.Content.ReadFromJsonAsync<OrderDto>())!;
        Assert.Equal($"/api/v1/orders/{order.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal("Submitted", order.Status);
        Assert.Equal(order.Lines.Sum(l => l.UnitPrice * l.Quantity), order.Total);
        Assert.All(order.Lines, line => Assert.True(line.UnitPrice > 0));

        var read = await buyer.GetFromJsonAsync<OrderDto>(response.Headers.Location!.OriginalString);
        Assert.Equal(order.Id, read!.Id);
    }

    [Fact]
    public async Task SameIdempotencyKeyMakesOneOrderEvenWhenRepeatedConcurrently()
    {
        var buyerId = $"buyer-{Guid.NewGuid():N}";
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, buyerId);
        var key = Guid.NewGuid().ToString();

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            using var response = await buyer.SendAsync(Submit(Order(new OrderLineRequest(4, 1)), key));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<OrderDto>())!.Id;
        }));

        Assert.Single(answers.Distinct());
        var listed = await buyer.GetFromJsonAsync<List<OrderDto>>("/api/v1/orders");
        Assert.Single(listed!);
    }

    [Fact]
    public async Task AKeyReusedForAnotherOrderIsA422NamingTheFirstOrderAndMakesNoSecond()
    {
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, $"buyer-{Guid.NewGuid():N}");
        var key = Guid.NewGuid().ToString();
        using var first = await buyer.SendAsync(Submit(Order(new OrderLineRequest(4, 1)), key));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var order = (await first.Content.ReadFromJsonAsync<OrderDto>())!;

        // The same body again finds the same order, as a retry should...
        using var resent = await buyer.SendAsync(Submit(Order(new OrderLineRequest(4, 1)), key));
        Assert.Equal(order.Id, (await resent.Content.ReadFromJsonAsync<OrderDto>())!.Id);

        // ...another body under the key is refused, not answered with the first order as if it were placed.
        using var reused = await buyer.SendAsync(Submit(Order(new OrderLineRequest(4, 2)), key));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
        var problem = (await reused.Content.ReadFromJsonAsync<ProblemDetails>())!;
        Assert.Equal("Idempotency key already used", problem.Title);
        Assert.Contains(order.Id.ToString(), problem.Detail);
        Assert.Single((await buyer.GetFromJsonAsync<List<OrderDto>>("/api/v1/orders"))!);
    }

    [Fact]
    public async Task ABodyFarLargerThanAnyOrderIsRefusedWith413AsItArrives()
    {
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, $"buyer-{Guid.NewGuid():N}");
        var padding = new string(' ', 2 * 1024 * 1024);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
        {
            Content = new StringContent($$$"""{"lines":[{"productId":1,"quantity":1}],"buyerName":"Ada{{{padding}}}","email":"ada@example.com","shippingAddress":{"street":"1","city":"P","postalCode":"1","country":"UK"}}""",
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(OrdersApi.IdempotencyKeyHeader, Guid.NewGuid().ToString());
        // As careful clients send large bodies: the server refuses before the body is sent, rather than closing the
        // connection under a client still writing it (which the client sees as a broken pipe, not as the 413).
        request.Headers.ExpectContinue = true;

        using var response = await buyer.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AnOrderWhoseTotalWouldOverflowIsA400NotA500()
    {
        var dearest = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => TestProducts.CreateAsync(Graph.App, stock: 1_000, price: 99_999_999.99m)));
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, $"buyer-{Guid.NewGuid():N}");

        // 2 x 100 x 99,999,999.99 is past what an order's total holds (numeric(12,2)).
        using var response = await buyer.SendAsync(Submit(Order(new OrderLineRequest(dearest[0].Id, 100), new OrderLineRequest(dearest[1].Id, 100)),
            Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.Contains("total would be over", Assert.Single(problem.Errors["lines"]));
        Assert.Empty((await buyer.GetFromJsonAsync<List<OrderDto>>("/api/v1/orders"))!);
    }

    [Theory]
    [InlineData("""{"lines":[],"buyerName":"Ada","email":"ada@example.com","shippingAddress":{"street":"1","city":"P","postalCode":"1","country":"UK"}}""", "Lines")]
    [InlineData("""{"lines":[{"productId":1,"quantity":1}],"buyerName":"Ada","email":"not-an-email","shippingAddress":{"street":"1","city":"P","postalCode":"1","country":"UK"}}""", "Email")]
    [InlineData("""{"lines":[{"productId":1,"quantity":0}],"buyerName":"Ada","email":"ada@example.com","shippingAddress":{"street":"1","city":"P","postalCode":"1","country":"UK"}}""", "Quantity")]
    [InlineData("""{"lines":[{"productId":1,"quantity":1}],"buyerName":"","email":"ada@example.com","shippingAddress":{"street":"1","city":"P","postalCode":"1","country":"UK"}}""", "BuyerName")]
    [InlineData("""{"lines":[{"productId":1,"quantity":1},{"productId":1,"quantity":2}],"buyerName":"Ada","email":"ada@example.com","shippingAddress":{"street":"1","city":"P","postalCode":"1","country":"UK"}}""", "lines")]
    public async Task InvalidOrderIsA400NamingTheField(string json, string field)
    {
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, $"buyer-{Guid.NewGuid():N}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add(OrdersApi.IdempotencyKeyHeader, Guid.NewGuid().ToString());
        using var response = await buyer.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Contains(problem!.Errors.Keys, key => key.Contains(field, StringComparison.Ordinal));
    }

    [Fact]
    public async Task MissingIdempotencyKeyIsA400NamingTheHeader()
    {
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, $"buyer-{Guid.NewGuid():N}");
        using var response = await buyer.SendAsync(Submit(Order(new OrderLineRequest(1, 1))));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Contains(OrdersApi.IdempotencyKeyHeader, problem!.Errors.Keys);
    }

    [Fact]
    public async Task UnknownProductIsA422AndNoOrderIsMade()
    {
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, $"buyer-{Guid.NewGuid():N}");
        using var response = await buyer.SendAsync(Submit(Order(new(1, 1), new(999_999, 1)), Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("999999", await response.Content.ReadAsStringAsync());
        Assert.Empty((await buyer.GetFromJsonAsync<List<OrderDto>>("/api/v1/orders"))!);
    }

    [Fact]
    public async Task WithoutABuyerTokenIs401()
    {
        using var anonymous = Graph.App.CreateHttpClient("ordering-api");
        using var response = await anonymous.SendAsync(Submit(Order(new OrderLineRequest(1, 1)), Guid.NewGuid().ToString()));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ABuyerCannotSeeAnotherBuyersOrders()
    {
        var aliceId = $"alice-{Guid.NewGuid():N}";
        using var alice = await BuyerTokens.ClientForAsync(Graph.App, aliceId);
        using var bob = await BuyerTokens.ClientForAsync(Graph.App, $"bob-{Guid.NewGuid():N}");
        using var placed = await alice.SendAsync(Submit(Order(new OrderLineRequest(5, 1)), Guid.NewGuid().ToString()));
        var location = placed.Headers.Location!.OriginalString;

        using var peek = await bob.GetAsync(location);
        Assert.Equal(HttpStatusCode.NotFound, peek.StatusCode);
        using var list = await bob.GetAsync($"/api/v1/orders?buyerId={aliceId}");
        Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        Assert.Empty((await bob.GetFromJsonAsync<List<OrderDto>>("/api/v1/orders"))!);
    }

    [Fact]
    public async Task OrderMessageIsPublishedByTheRelay()
    {
        using var buyer = await BuyerTokens.ClientForAsync(Graph.App, $"buyer-{Guid.NewGuid():N}");
        using var response = await buyer.SendAsync(Submit(Order(new OrderLineRequest(6, 1)), Guid.NewGuid().ToString()));
        var order = (await response.Content.ReadFromJsonAsync<OrderDto>())!;

        Assert.True(await OutboxSentAsync(order.Id, TimeSpan.FromSeconds(15)), "the relay did not publish the order's message");
    }

    [Fact]
    public async Task SentMessagesOlderThanTheRetentionArePrunedAndNothingUnsentEverIs()
    {
        // On a real shard, inside a transaction that is rolled back: the relays never see these rows.
        await using var shard = new NpgsqlConnection(await OrderShardDatabases.ConnectionStringAsync(Graph.App, 1));
        await shard.OpenAsync();
        await using var transaction = await shard.BeginTransactionAsync();
        var bucket = await ScalarAsync<int>(shard, transaction, """SELECT "Bucket" FROM ordering.owned_buckets ORDER BY "Bucket" LIMIT 1""");
        var now = DateTimeOffset.UtcNow;
        var old = now - OrderOutboxRelay.SentRetention - TimeSpan.FromMinutes(5);
        var (oldSent, recentSent, unsent) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        foreach (var (messageId, createdAt, sentAt) in new[] { (oldSent, old, (DateTimeOffset?)old), (recentSent, old, now), (unsent, old, null) })
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO ordering.outbox ("MessageId", "Bucket", "Type", "Payload", "CreatedAt", "SentAt", "Attempts")
                VALUES (@id, @bucket, 'test.pruning', '{}', @created, @sent, 0)
                """, shard, transaction);
            insert.Parameters.AddWithValue("id", messageId);
            insert.Parameters.AddWithValue("bucket", bucket);
            insert.Parameters.AddWithValue("created", createdAt);
            insert.Parameters.AddWithValue("sent", (object?)sentAt ?? DBNull.Value);
            await insert.ExecuteNonQueryAsync();
        }

        var pruned = await ShardOrders.PruneSentOutboxAsync(shard, transaction, now - OrderOutboxRelay.SentRetention, int.MaxValue, CancellationToken.None);

        Assert.Equal(1, pruned);
        await using var left = new NpgsqlCommand("""SELECT "MessageId" FROM ordering.outbox WHERE "Type" = 'test.pruning'""", shard, transaction);
        var remaining = new List<Guid>();
        await using (var reader = await left.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                remaining.Add(reader.GetGuid(0));
            }
        }

        Assert.Equal(new[] { recentSent, unsent }.Order(), remaining.Order());
        await transaction.RollbackAsync();
    }
}
