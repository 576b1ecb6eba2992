using System.Diagnostics;

namespace AspireShop.Ordering.Batching;

/// <summary>
/// Where the spans of a batch's shared work (its SQL) go: under the lone item's own span, so a single request or message
/// keeps one trace end to end, or under a new span linked to every item's, as OpenTelemetry's messaging conventions do
/// for batches (one piece of work cannot have many parents).
/// </summary>
public static class BatchSpans
{
    /// <summary>
    /// Makes the span the batch's work runs under current and returns the span to dispose when the work is done (null
    /// when it is the lone item's span, which its owner ends).
    /// </summary>
    public static Activity? StartWork(ActivitySource source, string name, IReadOnlyList<Activity?> items)
    {
        if (items.Count == 1)
        {
            Activity.Current = items[0];
            return null;
        }

        var span = source.StartActivity(name, ActivityKind.Internal, parentContext: default,
            links: [.. items.OfType<Activity>().Select(item => new ActivityLink(item.Context))]);
        span?.SetTag("shop.batch.size", items.Count);
        return span;
    }
}
