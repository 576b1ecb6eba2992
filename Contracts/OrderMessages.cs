namespace AspireShop.Contracts;

/// <summary>
/// The order events on the broker: Ordering.Api's outbox relay publishes them, Ordering.Worker consumes them. Either
/// side declares the exchange and queues before it uses them (<c>OrderTopology</c> in the Ordering library).
/// </summary>
public static class OrderMessaging
{
    /// <summary>Durable topic exchange for order events.</summary>
    public const string Exchange = "shop.orders";

    public const string OrderSubmittedType = "order.submitted";

    /// <summary>Header carrying the W3C trace context of the request that caused the message.</summary>
    public const string TraceParentHeader = "traceparent";
}

/// <summary>An order was accepted (status Submitted) and waits for stock to be reserved.</summary>
public sealed record OrderSubmitted(Guid OrderId, string BuyerId, IReadOnlyList<OrderSubmittedLine> Lines, DateTimeOffset SubmittedAt);

public sealed record OrderSubmittedLine(int ProductId, int Quantity);

/// <summary>
/// The ProblemDetails <c>type</c>s of order intake that a client acts on, not only shows: an idempotency key that
/// already made another order answers 422 with this type and the order's id in <c>orderId</c>.
/// </summary>
public static class OrderProblemTypes
{
    public const string IdempotencyKeyReused = "urn:aspireshop:problem:idempotency-key-reused";
}
