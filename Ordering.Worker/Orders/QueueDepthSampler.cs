using System.Diagnostics.Metrics;
using AspireShop.Ordering.Messaging;
using AspireShop.ServiceDefaults;
using RabbitMQ.Client;

namespace Ordering.Worker.Orders;

/// <summary>
/// Samples the depth of the order queue and of its dead-letter queue (a passive declare answers with the count), for
/// the <c>aspireshop.rabbitmq.queue_depth</c> gauge: backlog and dead letters at a glance.
/// </summary>
public sealed class QueueDepthSampler : PeriodicSampler
{
    private static readonly string[] Queues = [OrderTopology.OrderSubmittedQueue, OrderTopology.DeadLetterQueue];

    private readonly IConnection _broker;
    private IReadOnlyList<Measurement<long>> _depths = [];

    public QueueDepthSampler(IConnection broker, OrderingWorkerMetrics metrics, ILogger<QueueDepthSampler> logger)
        : base(logger)
    {
        _broker = broker;
        metrics.Meter.CreateObservableGauge("aspireshop.rabbitmq.queue_depth", () => _depths, "{message}",
            "Messages ready in the order queue and its dead-letter queue (tag queue).");
    }

    protected override string What => "the order queues' depth";

    protected override async Task SampleAsync(CancellationToken cancellationToken)
    {
        await using var channel = await _broker.CreateChannelAsync(cancellationToken: cancellationToken);
        var depths = new List<Measurement<long>>();
        foreach (var queue in Queues)
        {
            var declared = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            depths.Add(new Measurement<long>(declared.MessageCount, new KeyValuePair<string, object?>("queue", queue)));
        }

        _depths = depths;
    }
}
