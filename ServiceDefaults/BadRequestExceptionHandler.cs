using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A client's mistake is not a server failure. Malformed JSON, a wrong content type or an unparsable parameter
/// (<see cref="BadHttpRequestException"/>, which minimal APIs throw when <c>ThrowOnBadRequest</c> is on) is answered
/// with ProblemDetails and its own status (400, 413, 415) and logged at Information with the reason. Left to the
/// exception handler middleware it would be logged at Error as "An unhandled exception has occurred", which wakes an
/// operator for a client's typo; an exception an <see cref="IExceptionHandler"/> handled is not logged by the
/// middleware (ASP.NET Core 10). Every other exception still reaches the middleware and is logged at Error.
/// </summary>
internal sealed partial class BadRequestExceptionHandler(IProblemDetailsService problemDetails, ILogger<BadRequestExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        LogRejected(logger, httpContext.Request.Method, httpContext.Request.Path, bad.StatusCode, bad.Message);
        httpContext.Response.StatusCode = bad.StatusCode;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = bad.StatusCode },
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected {Method} {Path} with {StatusCode}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string method, PathString path, int statusCode, string reason);
}
