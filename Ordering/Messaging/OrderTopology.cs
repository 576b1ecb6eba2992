using AspireShop.Contracts;
using RabbitMQ.Client;

namespace AspireShop.Ordering.Messaging;

/// <summary>
/// The durable exchange and queues for order events. Both the publisher and the consumer declare them (declaring is
/// idempotent), so no message is published into an exchange with nothing bound to it, whichever side starts first.
/// </summary>
public static class OrderTopology
{
    public const string OrderSubmittedQueue = "ordering.order-submitted";
    public const string DeadLetterExchange = "shop.orders.dead-letter";
    public const string DeadLetterQueue = "ordering.order-submitted.dead-letter";
    public const int MaxRedeliveries = 5;

    public static async Task DeclareAsync(IChannel channel, CancellationToken cancellationToken = default)
    {
        await channel.ExchangeDeclareAsync(OrderMessaging.Exchange, ExchangeType.Topic, durable: true, cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(DeadLetterExchange, ExchangeType.Fanout, durable: true, cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(DeadLetterQueue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(DeadLetterQueue, DeadLetterExchange, routingKey: "", cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(OrderSubmittedQueue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?>
            {
                ["x-dead-letter-exchange"] = DeadLetterExchange,
                ["x-queue-type"] = "quorum",
                // A message whose processing keeps failing (not a passing outage, which the consumer waits out
                // without giving the message back) is dead-lettered on its sixth delivery instead of looping.
                ["x-delivery-limit"] = MaxRedeliveries,
            },
            cancellationToken: cancellationToken);
        await channel.QueueBindAsync(OrderSubmittedQueue, OrderMessaging.Exchange, OrderMessaging.OrderSubmittedType, cancellationToken: cancellationToken);
    }
}
