using System.Text.Json;
using AspireShop.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Scalar.AspNetCore;

namespace Microsoft.Extensions.Hosting;

/// <summary>What every service with a public HTTP API (Catalog.Api, Ordering.Api) sets up the same way.</summary>
public static class ApiDefaults
{
    /// <summary>
    /// ProblemDetails that say what was wrong with a bad request, the OpenAPI document, and the per-client rate limiter
    /// (<see cref="ClientRateLimiting"/>). Validation is not here: its source generator finds the validated types only
    /// in the project whose code calls <c>AddValidation</c>, so each API calls it itself.
    /// </summary>
    public static IHostApplicationBuilder AddApiDefaults(this IHostApplicationBuilder builder)
    {
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
        builder.Services.AddOpenApi();
        // Bad requests (malformed JSON, wrong content type, unparsable parameters) become exceptions that
        // BadRequestExceptionHandler turns into ProblemDetails with their own status code (400, 415), logged at
        // Information, instead of bare status codes.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.AddClientRateLimiting();
        return builder;
    }

    /// <summary>
    /// The middleware in its order (errors and status codes as ProblemDetails, authentication before the per-client
    /// rate limiter, then authorization), the OpenAPI document, and Scalar's UI for it in development.
    /// </summary>
    public static WebApplication UseApiDefaults(this WebApplication app)
    {
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

        return app;
    }
}
