namespace AspireShop.Contracts;

/// <summary>The broker topology both sides agree on; Ordering.Worker declares it, Catalog.Api publishes to it.</summary>
public static class OrderMessaging
{
    /// <summary>Durable topic exchange for order events.</summary>
    public const string Exchange = "shop.orders";

    public const string OrderSubmittedType = "order.submitted";

    public const string OrderStatusChangedType = "order.status-changed";

    /// <summary>Header carrying the W3C trace context of the request that caused the message.</summary>
    public const string TraceParentHeader = "traceparent";
}

/// <summary>An order was accepted (status Submitted) and waits for stock to be reserved.</summary>
public sealed record OrderSubmitted(Guid OrderId, string BuyerId, IReadOnlyList<OrderSubmittedLine> Lines, DateTimeOffset SubmittedAt);

public sealed record OrderSubmittedLine(int ProductId, int Quantity);

/// <summary>An order reached its final status: Confirmed (stock reserved) or Rejected (with the reason).</summary>
public sealed record OrderStatusChanged(Guid OrderId, string BuyerId, string Status, string? Reason, DateTimeOffset ChangedAt);
