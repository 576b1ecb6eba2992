namespace Web.Blazor.Catalog;

/// <summary>
/// Serves product pictures under the site's own address, so browsers never need to reach Catalog.Api directly;
/// pictures change rarely, so browsers and CDNs may keep them for a day.
/// </summary>
public static class ProductPictureEndpoint
{
    public static IEndpointRouteBuilder MapProductPictures(this IEndpointRouteBuilder app)
    {
        app.MapGet("/pictures/{id:int}", async (int id, HttpContext http, CatalogClient catalog, CancellationToken ct) =>
        {
            try
            {
                using var picture = await catalog.GetPictureAsync(id, ct);
                if (!picture.IsSuccessStatusCode)
                {
                    return Results.NotFound();
                }

                http.Response.Headers.CacheControl = "public, max-age=86400";
                var bytes = await picture.Content.ReadAsByteArrayAsync(ct);
                return Results.Bytes(bytes, picture.Content.Headers.ContentType?.ToString() ?? "image/svg+xml");
            }
            catch (CatalogUnavailableException)
            {
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }
        });
        return app;
    }
}
