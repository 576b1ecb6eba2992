using System.Diagnostics.Metrics;
using AspireShop.Contracts;
using RabbitMQ.Client;

namespace Ordering.Worker.Orders;

/// <summary>
/// Samples the depth of the order queue and of its dead-letter queue every few seconds (a passive declare answers
/// with the count), for the <c>aspireshop.rabbitmq.queue_depth</c> gauge: backlog and dead letters at a glance.
/// </summary>
public sealed class QueueDepthSampler : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private static readonly string[] Queues = [OrderTopology.OrderSubmittedQueue, OrderTopology.DeadLetterQueue];

    private readonly IConnection _broker;
    private readonly ILogger<QueueDepthSampler> _logger;
    private IReadOnlyList<Measurement<long>> _depths = [];

    public QueueDepthSampler(IConnection broker, OrderingWorkerMetrics metrics, ILogger<QueueDepthSampler> logger)
    {
        _broker = broker;
        _logger = logger;
        metrics.Meter.CreateObservableGauge("aspireshop.rabbitmq.queue_depth", () => _depths, "{message}",
            "Messages ready in the order queue and its dead-letter queue (tag queue).");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await using var channel = await _broker.CreateChannelAsync(cancellationToken: stoppingToken);
                var depths = new List<Measurement<long>>();
                foreach (var queue in Queues)
                {
                    var declared = await channel.QueueDeclarePassiveAsync(queue, stoppingToken);
                    depths.Add(new Measurement<long>(declared.MessageCount, new KeyValuePair<string, object?>("queue", queue)));
                }

                _depths = depths;
            }
            catch (Exception e) when (e is RabbitMQ.Client.Exceptions.RabbitMQClientException or RabbitMQ.Client.Exceptions.OperationInterruptedException or IOException)
            {
                // The broker is down or the topology not declared yet; the health checks say so.
                _logger.LogDebug("Sampling the queue depths failed: {Problem}", e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
