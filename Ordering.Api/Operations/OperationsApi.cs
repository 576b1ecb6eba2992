using System.Security.Cryptography;
using System.Text;
using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Ordering.Api.Sharding;

namespace Ordering.Api.Operations;

/// <summary>A bucket move asked for over HTTP: which bucket, to which shard.</summary>
public sealed record BucketMoveRequest(int Bucket, int ToShard);

/// <summary>
/// The operator's endpoints, for the AppHost's dashboard commands and the load generator: read stock (where a load
/// run starts counting), audit a client's orders (<see cref="OrderAudit"/>), move a bucket (<see cref="BucketMover"/>,
/// as <c>shards move</c> does from the command line). Not part of the public API: every request must carry the
/// AppHost's <c>operations-key</c> in <see cref="OperationsAccess.KeyHeader"/> (a shared secret rather than a token scheme: its only
/// callers are the AppHost and the tools it starts), and without a key configured they are not mapped at all.
/// </summary>
public static class OperationsApi
{
    public static IEndpointRouteBuilder MapOperationsApi(this WebApplication app)
    {
        if (app.Configuration[OperationsAccess.KeySetting] is not { Length: >= 32 } key)
        {
            app.Logger.LogInformation("No {Setting} of at least 32 characters is configured, so the operations endpoints (/ops) are not served.", OperationsAccess.KeySetting);
            return app;
        }

        var expected = Encoding.UTF8.GetBytes(key);
        var operations = app.MapGroup("/ops").WithTags("Operations").ExcludeFromDescription()
            .AddEndpointFilter(async (context, next) =>
                context.HttpContext.Request.Headers[OperationsAccess.KeyHeader].ToString() is { Length: > 0 } given
                && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected)
                    ? await next(context)
                    : TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, detail: $"Send the AppHost's operations key in {OperationsAccess.KeyHeader}."));

        operations.MapPost("/stock", ReadStock);
        // A long load run's record: tens of thousands of requests, about 100 bytes each.
        operations.MapPost("/audit", Audit).WithMetadata(new RequestSizeLimitAttribute(64 * 1024 * 1024));
        operations.MapPost("/buckets/move", MoveBucket);
        return app;
    }

    private static async Task<Ok<StockSnapshot>> ReadStock(int[] productIds, CatalogStock catalog, CancellationToken cancellationToken)
        => TypedResults.Ok(await catalog.StockAsync(productIds, cancellationToken));

    private static async Task<Results<Ok<OrderAuditReport>, ValidationProblem>> Audit(
        OrderAuditRequest request, OrderAudit audit, CancellationToken cancellationToken)
    {
        // The record's lists come from JSON and may be missing, whatever their types say.
        if (request.Sent is null || request.StockAtStart is null || request.Sent.Any(s => s is null || s.BuyerId is null || s.Key is null))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["sent"] = ["Send every order request you sent: its buyerId, key, and acceptedId when it was answered 202 (an empty list will do)."],
                ["stockAtStart"] = ["Send the stock read from /ops/stock when you started (an empty object will do)."],
            });
        }

        return TypedResults.Ok(await audit.RunAsync(request, cancellationToken));
    }

    /// <summary>
    /// Moves the bucket in a scope of its own on the application's stopping token, not the request's: a caller that
    /// goes away stops waiting, not the move, which runs to its end (or its own clean failure) and is logged.
    /// </summary>
    private static async Task<Results<Ok<BucketMoveReport>, ProblemHttpResult>> MoveBucket(
        BucketMoveRequest request, IServiceScopeFactory scopes, IHostApplicationLifetime lifetime, ILogger<BucketMover> logger,
        CancellationToken cancellationToken)
    {
        var move = Task.Run(async () =>
        {
            await using var scope = scopes.CreateAsyncScope();
            var report = await scope.ServiceProvider.GetRequiredService<BucketMover>().MoveAsync(request.Bucket, request.ToShard, lifetime.ApplicationStopping);
            logger.LogInformation("Bucket {Bucket} moved from {Source} to {Target} on the operator's request: {Moved}; writes to it waited {FrozenMs} ms.",
                report.Bucket, report.From, report.To, report.Moved, (int)report.Frozen.TotalMilliseconds);
            return report;
        }, CancellationToken.None);
        _ = move.ContinueWith(failed => logger.LogWarning("Moving bucket {Bucket} failed: {Problem}", request.Bucket, failed.Exception!.InnerException!.Message),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        try
        {
            return TypedResults.Ok(await move.WaitAsync(cancellationToken));
        }
        catch (BucketMoveFailedException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The bucket was not moved.", detail: e.Message);
        }
    }
}
