using System.Diagnostics;
using System.Security.Claims;
using System.Text.Json;
using AspireShop.Contracts;
using AspireShop.Ordering.Catalog;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ordering.Api.Buyers;
using Ordering.Api.Operations;

namespace Ordering.Api.Orders;

public static class OrdersApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    private const int MaxIdempotencyKeyLength = 100;
    private const int MaxOrdersListed = 50;

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var orders = app.MapGroup("/api/v1/orders").WithTags("Orders")
            .RequireAuthorization(BuyerAuthentication.Policy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        orders.MapPost("/", SubmitOrder)
            .WithSummary($"Accepts an order (202); send an {IdempotencyKeyHeader} header: the same key returns the first result.")
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        orders.MapGet("/{id:guid}", GetOrder).WithSummary("One of the buyer's orders.");
        orders.MapGet("/", ListOrders).WithSummary($"The buyer's latest {MaxOrdersListed} orders, newest first.")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    private static async Task<Results<Accepted<OrderDto>, ValidationProblem, ProblemHttpResult>> SubmitOrder(
        SubmitOrderRequest request,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        ClaimsPrincipal buyer,
        CatalogProducts catalog,
        OrderShardContexts shards,
        OrderOutboxSignals outbox,
        OrderingApiMetrics metrics,
        TimeProvider clock,
        CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(idempotencyKey) || idempotencyKey.Length > MaxIdempotencyKeyLength || idempotencyKey.Any(char.IsControl))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [IdempotencyKeyHeader] = [$"Send a key of 1 to {MaxIdempotencyKeyLength} characters that is unique to this order (a new GUID will do)."],
            });
        }

        var buyerId = buyer.Identity!.Name!;
        var bucket = OrderBuckets.Of(buyerId);
        try
        {
            // Prices and names come from the catalog as the primary has them now, never from the client; read before
            // the shard transaction, so it is not held open across a second database.
            var products = await catalog.PricesAsync([.. request.Lines.Select(l => l.ProductId).Distinct()], ct);

            // The idempotency lookup and the insert run on the buyer's shard in one transaction that holds the bucket,
            // so a bucket moving meanwhile can neither lose the order nor let the same key make a second one.
            var (answer, shard) = await shards.InOwningShardAsync(bucket, (ordering, ct) =>
                SubmitOnShardAsync(request, idempotencyKey, buyerId, bucket, products, ordering, clock, ct), ct);
            if (answer.IsNew)
            {
                outbox.For(shard).Notify();
                metrics.OrdersSubmitted.Add(1, new KeyValuePair<string, object?>("shard", shard.Name));
            }

            return answer.Result;
        }
        catch (Exception e) when (e is OrderShardUnavailableException || ShopResilience.IsDatabaseOutage(e))
        {
            // The buyer's shard, or the catalog the prices come from, cannot be reached now.
            return ShardUnavailable();
        }
    }

    private sealed record Submission(Results<Accepted<OrderDto>, ValidationProblem, ProblemHttpResult> Result, bool IsNew);

    private static async Task<Submission> SubmitOnShardAsync(
        SubmitOrderRequest request, string idempotencyKey, string buyerId, int bucket,
        Dictionary<int, ProductPrice> products, OrderingDbContext ordering, TimeProvider clock, CancellationToken ct)
    {
        if (await FindByKeyAsync(ordering, buyerId, idempotencyKey, ct) is { } earlier)
        {
            return new(Accepted(earlier), IsNew: false);
        }

        if (request.Lines.GroupBy(l => l.ProductId).Any(g => g.Count() > 1))
        {
            return new(TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["lines"] = ["Name each product once, with the quantity you want."],
            }), IsNew: false);
        }

        var unknown = request.Lines.Select(l => l.ProductId).Where(id => !products.ContainsKey(id)).ToList();
        if (unknown.Count > 0)
        {
            return new(TypedResults.Problem(
                statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "Unknown products",
                detail: $"The catalog has no product {string.Join(", ", unknown)}.",
                extensions: new Dictionary<string, object?> { ["unknownProductIds"] = unknown }), IsNew: false);
        }

        var now = clock.GetUtcNow();
        var order = new Order
        {
            Id = OrderBuckets.NewOrderId(bucket, now),
            BuyerId = buyerId,
            Bucket = bucket,
            IdempotencyKey = idempotencyKey,
            BuyerName = request.BuyerName.Trim(),
            Email = request.Email.Trim(),
            ShippingAddress = new ShippingAddress
            {
                Street = request.ShippingAddress.Street.Trim(),
                City = request.ShippingAddress.City.Trim(),
                PostalCode = request.ShippingAddress.PostalCode.Trim(),
                Country = request.ShippingAddress.Country.Trim(),
            },
            Status = OrderStatus.Submitted,
            SubmittedAt = now,
            Lines = request.Lines.Select(l => new OrderLine
            {
                ProductId = l.ProductId,
                ProductName = products[l.ProductId].Name,
                UnitPrice = products[l.ProductId].Price,
                Quantity = l.Quantity,
            }).ToList(),
        };
        order.Total = order.Lines.Sum(l => l.UnitPrice * l.Quantity);

        // The order and its message commit together (one transaction): no order without its message, no message for
        // an order that was not stored.
        ordering.Orders.Add(order);
        ordering.Outbox.Add(new OutboxMessage
        {
            MessageId = Guid.CreateVersion7(now),
            Bucket = bucket,
            Type = OrderMessaging.OrderSubmittedType,
            Payload = JsonSerializer.Serialize(
                new OrderSubmitted(order.Id, buyerId, order.Lines.Select(l => new OrderSubmittedLine(l.ProductId, l.Quantity)).ToList(), now),
                OrderingJsonContext.Default.OrderSubmitted),
            TraceParent = Activity.Current?.Id,
            CreatedAt = now,
        });
        try
        {
            await ordering.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // The same key raced in from a concurrent request and won (EF rolled back to its savepoint, so the
            // transaction goes on): answer with its order.
            ordering.ChangeTracker.Clear();
            return new(Accepted((await FindByKeyAsync(ordering, buyerId, idempotencyKey, ct))!), IsNew: false);
        }

        return new(Accepted(order), IsNew: true);
    }

    private static async Task<Results<Ok<OrderDto>, ProblemHttpResult>> GetOrder(
        Guid id, ClaimsPrincipal buyer, OrderShardContexts shards, CancellationToken ct)
    {
        try
        {
            // The id names its bucket, so one shard is asked. Another buyer's order answers exactly like a missing
            // one: its existence is not revealed.
            var buyerId = buyer.Identity!.Name;
            var (order, _) = await shards.InOwningShardAsync(OrderBuckets.Of(id), (ordering, ct) =>
                ordering.Orders.AsNoTracking().Include(o => o.Lines).SingleOrDefaultAsync(o => o.Id == id && o.BuyerId == buyerId, ct), ct);
            return order is null
                ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Order not found", detail: $"You have no order {id}.")
                : TypedResults.Ok(ToDto(order));
        }
        catch (OrderShardUnavailableException)
        {
            return ShardUnavailable();
        }
    }

    private static async Task<Results<Ok<List<OrderDto>>, ProblemHttpResult>> ListOrders(
        string? buyerId, ClaimsPrincipal buyer, OrderShardContexts shards, CancellationToken ct)
    {
        var own = buyer.Identity!.Name!;
        if (buyerId is not null && buyerId != own)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not your orders",
                detail: "A buyer can list only their own orders.");
        }

        try
        {
            var (orders, _) = await shards.InOwningShardAsync(OrderBuckets.Of(own), (ordering, ct) =>
                ordering.Orders.AsNoTracking().Include(o => o.Lines)
                    .Where(o => o.BuyerId == own)
                    .OrderByDescending(o => o.SubmittedAt).Take(MaxOrdersListed)
                    .ToListAsync(ct), ct);
            return TypedResults.Ok(orders.Select(ToDto).ToList());
        }
        catch (OrderShardUnavailableException)
        {
            return ShardUnavailable();
        }
    }

    private static ProblemHttpResult ShardUnavailable()
        => TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Orders unavailable",
            detail: "Your orders cannot be reached right now; try again in a few seconds.",
            extensions: new Dictionary<string, object?> { ["retryAfterSeconds"] = 5 });

    private static Task<Order?> FindByKeyAsync(OrderingDbContext ordering, string buyerId, string key, CancellationToken ct)
        => ordering.Orders.AsNoTracking().Include(o => o.Lines)
            .SingleOrDefaultAsync(o => o.BuyerId == buyerId && o.IdempotencyKey == key, ct);

    private static Accepted<OrderDto> Accepted(Order order) => TypedResults.Accepted($"/api/v1/orders/{order.Id}", ToDto(order));

    private static OrderDto ToDto(Order order) => new(
        order.Id,
        order.Status.ToString(),
        order.RejectionReason,
        order.Total,
        order.SubmittedAt,
        order.CompletedAt,
        order.BuyerName,
        order.Email,
        new AddressRequest(order.ShippingAddress.Street, order.ShippingAddress.City, order.ShippingAddress.PostalCode, order.ShippingAddress.Country),
        order.Lines.OrderBy(l => l.ProductId).Select(l => new OrderLineDto(l.ProductId, l.ProductName, l.UnitPrice, l.Quantity)).ToList());
}
