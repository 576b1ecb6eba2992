using System.Security.Claims;
using AspireShop.Ordering.Data;
using AspireShop.Ordering.Sharding;
using AspireShop.ServiceDefaults.Resilience;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Ordering.Api.Buyers;

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
        OrderIntakeWriter intake,
        CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(idempotencyKey) || idempotencyKey.Length > MaxIdempotencyKeyLength || idempotencyKey.Any(char.IsControl))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [IdempotencyKeyHeader] = [$"Send a key of 1 to {MaxIdempotencyKeyLength} characters that is unique to this order (a new GUID will do)."],
            });
        }

        try
        {
            // Stored on the buyer's shard with the order's message, in a batch with the requests arriving meanwhile;
            // answered once committed. The same key answers with the order it made first.
            return (await intake.SubmitAsync(buyer.Identity!.Name!, idempotencyKey, request, ct)).Result;
        }
        catch (Exception e) when (e is OrderShardUnavailableException || ShopResilience.IsDatabaseOutage(e))
        {
            // The buyer's shard, or the catalog the prices come from, cannot be reached now.
            return ShardUnavailable();
        }
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

    internal static Accepted<OrderDto> Accepted(Order order) => TypedResults.Accepted($"/api/v1/orders/{order.Id}", ToDto(order));

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
