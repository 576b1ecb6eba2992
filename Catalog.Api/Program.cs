using System.Text.Json;
using Catalog.Api.Catalog;
using Catalog.Api.Operations;
using Catalog.Api.Ordering;
using Catalog.Api.Ordering.Sharding;
using Catalog.Api.Security;
using Scalar.AspNetCore;

if (ShardsCommand.IsInvocation(args))
{
    return await ShardsCommand.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddCatalog();
builder.AddRabbitMQClient("messaging");
builder.AddCatalogAdminAuthentication();
builder.AddOrdering();
builder.AddClientRateLimiting();
builder.Services.AddSingleton<CatalogApiMetrics>();
builder.Services.AddHostedService<DatabaseStateSampler>();

builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
{
    // Say what was wrong with the request (which parameter, where in the JSON); these messages name only the
    // request's own fields.
    if (context.Exception is BadHttpRequestException bad)
    {
        context.ProblemDetails.Detail = bad.InnerException is JsonException json
            ? $"The request body is not valid JSON for this endpoint{(json.Path is null ? "" : $" (at {json.Path})")}."
            : bad.Message;
    }
});
builder.Services.AddValidation();
builder.Services.AddOpenApi();
builder.Services.ConfigureHttpJsonOptions(options =>
    options.SerializerOptions.TypeInfoResolverChain.Insert(0, CatalogJsonContext.Default));
// Bad requests (malformed JSON, wrong content type, unparsable parameters) become exceptions that ServiceDefaults'
// BadRequestExceptionHandler turns into ProblemDetails with their own status code (400, 415), logged at Information,
// instead of bare status codes.
builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseRateLimiter();
app.UseAuthorization();

app.MapOpenApi();
if (app.Environment.IsDevelopment())
{
    app.MapScalarApiReference();
}

app.MapCatalogApi();
app.MapOrdersApi();
app.MapDefaultEndpoints();

app.Run();
return 0;
