using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;

namespace Web.Blazor.Ordering;

/// <summary>
/// Keeps a purchase in the shopper's request trace. Blazor starts the span of a form's submit handler as the root of
/// a new trace (linked to the request, not its child), which would split the purchase from the request that made it;
/// placing the order runs in a span that is the request's child and links to the handler's span.
/// </summary>
public static class CheckoutTracing
{
    // Named after the application, which ServiceDefaults registers as a trace source.
    private static readonly ActivitySource Source = new("Web.Blazor");

    public static Activity? StartPlaceOrder(HttpContext http)
    {
        var request = http.Features.Get<IHttpActivityFeature>()?.Activity;
        ActivityLink[]? links = Activity.Current is { } handler && handler != request ? [new ActivityLink(handler.Context)] : null;
        return Source.StartActivity("place order", ActivityKind.Internal, request?.Context ?? default, links: links);
    }
}
