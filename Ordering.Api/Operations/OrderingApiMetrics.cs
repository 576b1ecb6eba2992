using System.Diagnostics.Metrics;

namespace Ordering.Api.Operations;

/// <summary>
/// Ordering.Api's own instruments, on the meter named after the application (which ServiceDefaults exports and serves
/// to Prometheus at <c>/metrics</c>, e.g. <c>aspireshop_orders_submitted_total</c>).
/// </summary>
public sealed class OrderingApiMetrics
{
    public OrderingApiMetrics(IMeterFactory meters)
    {
        Meter = meters.Create("Ordering.Api");
        OrdersSubmitted = Meter.CreateCounter<long>("aspireshop.orders.submitted", "{order}", "Orders accepted (a repeated idempotency key is not counted again).");
    }

    public Meter Meter { get; }

    public Counter<long> OrdersSubmitted { get; }
}
