using System.Diagnostics.Metrics;

namespace Ordering.Worker.Orders;

/// <summary>
/// Ordering.Worker's instruments, on the meter named after the application (exported by ServiceDefaults and served
/// to Prometheus at <c>/metrics</c>).
/// </summary>
public sealed class OrderingWorkerMetrics
{
    public OrderingWorkerMetrics(IMeterFactory meters)
    {
        Meter = meters.Create("Ordering.Worker");
        OrdersDecided = Meter.CreateCounter<long>("aspireshop.orders.decided", "{order}", "Orders confirmed or rejected (tag status).");
        ProcessingTime = Meter.CreateHistogram<double>("aspireshop.orders.processing_time", "s", "From an order's submission to its final status.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        BatchSize = Meter.CreateHistogram<int>("aspireshop.orders.batch_size", "{message}", "Messages the worker processed together in one batch.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100] });
        DeadLettered = Meter.CreateCounter<long>("aspireshop.orders.dead_lettered", "{message}", "Messages this worker rejected to the dead-letter queue as malformed.");
    }

    public Meter Meter { get; }

    public Counter<long> OrdersDecided { get; }

    public Histogram<double> ProcessingTime { get; }

    public Histogram<int> BatchSize { get; }

    public Counter<long> DeadLettered { get; }
}
