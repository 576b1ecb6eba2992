namespace AspireShop.Ordering.Data;

public enum OrderStatus
{
    Submitted,
    Confirmed,
    Rejected,
}

public sealed class Order
{
    public Guid Id { get; set; }

    public required string BuyerId { get; set; }

    /// <summary>The buyer's bucket (also encoded in <see cref="Id"/>): what a shard owns and a bucket move selects by.</summary>
    public int Bucket { get; set; }

    /// <summary>The buyer's key for this submission: a repeated key finds this order instead of creating another.</summary>
    public required string IdempotencyKey { get; set; }

    public required string BuyerName { get; set; }

    public required string Email { get; set; }

    public required ShippingAddress ShippingAddress { get; set; }

    public OrderStatus Status { get; set; }

    public string? RejectionReason { get; set; }

    public decimal Total { get; set; }

    public DateTimeOffset SubmittedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>When Ordering.Worker handed the buyer's mail over (or found it undeliverable); null until then.</summary>
    public DateTimeOffset? MailSentAt { get; set; }

    public List<OrderLine> Lines { get; set; } = [];

    /// <summary>The buyer's mail about the decision, while it is owed.</summary>
    public MailOwed? MailOwed { get; set; }
}

/// <summary>
/// The mail a decided order still owes its buyer: written by the transaction that decides the order, deleted by the one
/// that records the mail sent. A row of its own rather than a filter on the order's columns, so the order's updates
/// change no indexed column and stay HOT; the mail relay finds the owed mails in this small table.
/// </summary>
public sealed class MailOwed
{
    public Guid OrderId { get; set; }

    public DateTimeOffset DecidedAt { get; set; }
}

public sealed class ShippingAddress
{
    public required string Street { get; set; }

    public required string City { get; set; }

    public required string PostalCode { get; set; }

    public required string Country { get; set; }
}

public sealed class OrderLine
{
    public Guid OrderId { get; set; }

    public int ProductId { get; set; }

    /// <summary>Name and price as the catalog had them when the order was placed.</summary>
    public required string ProductName { get; set; }

    public decimal UnitPrice { get; set; }

    public int Quantity { get; set; }
}

/// <summary>
/// A message to publish, written in the same transaction as the change it announces, so a change is never committed
/// without its message nor a message sent for a change that rolled back. The relay publishes and then marks it sent.
/// </summary>
public sealed class OutboxMessage
{
    public long Id { get; set; }

    public Guid MessageId { get; set; }

    /// <summary>The bucket of the order it is about: the relay sends only messages of buckets its shard owns.</summary>
    public int Bucket { get; set; }

    public required string Type { get; set; }

    public required string Payload { get; set; }

    /// <summary>W3C traceparent of the request that wrote it, so the consumer's work joins the same trace.</summary>
    public string? TraceParent { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? SentAt { get; set; }

    public int Attempts { get; set; }
}

/// <summary>
/// A message the order processor has handled, recorded in the same transaction as its effect: a redelivered message
/// finds its id here and changes nothing (exactly-once effect over at-least-once delivery).
/// </summary>
public sealed class InboxMessage
{
    public Guid MessageId { get; set; }

    /// <summary>The bucket of the order the message was about, so the record moves with the bucket.</summary>
    public int Bucket { get; set; }

    public DateTimeOffset ProcessedAt { get; set; }
}

/// <summary>
/// A bucket this shard owns. Every transaction on a bucket's order data first holds the bucket and checks for its row
/// here (<see cref="AspireShop.Ordering.Sharding.BucketOwnership"/>): a bucket move takes the bucket exclusively and
/// deletes the row, which waits for those transactions and turns away later ones.
/// </summary>
public sealed class OwnedBucket
{
    public int Bucket { get; set; }
}
