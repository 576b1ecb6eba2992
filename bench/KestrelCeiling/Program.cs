// Serves GET /product with the bytes of the file given as --Body=<path>: what Catalog.Api's cached
// product-by-id answer costs with everything but Kestrel taken away.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var body = await File.ReadAllBytesAsync(builder.Configuration["Body"]
    ?? throw new InvalidOperationException("Give the JSON to serve with --Body=<path>."));

var app = builder.Build();
app.MapGet("/product", () => Results.Bytes(body, "application/json; charset=utf-8"));
app.Run();
