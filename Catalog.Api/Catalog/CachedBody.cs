using System.ComponentModel;
using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Catalog.Api.Catalog;

/// <summary>
/// A response body as it is cached: serialized once when the cache is filled, served as bytes afterwards (no
/// per-request serialization), with its entity tag. Immutable, so HybridCache hands out the same instance from
/// memory instead of deserializing a copy on every hit.
/// </summary>
[ImmutableObject(true)]
public sealed record CachedBody(bool Found, byte[] Body, string ETag)
{
    public static CachedBody Missing { get; } = new(false, [], "");

    public static CachedBody Of(byte[] body)
        => new(true, body, $"\"{Convert.ToHexStringLower(SHA256.HashData(body).AsSpan(0, 12))}\"");
}

/// <summary>Writes a <see cref="CachedBody"/> with its ETag and Cache-Control, or 304 when the client already has it.</summary>
public sealed class CachedBodyResult(CachedBody body, string contentType, string cacheControl) : IResult
{
    public Task ExecuteAsync(HttpContext context)
    {
        var response = context.Response;
        response.Headers.ETag = body.ETag;
        response.Headers.CacheControl = cacheControl;

        if (ClientHasIt(context.Request.Headers.IfNoneMatch))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentType = contentType;
        response.ContentLength = body.Body.Length;
        return response.Body.WriteAsync(body.Body, context.RequestAborted).AsTask();
    }

    private bool ClientHasIt(Microsoft.Extensions.Primitives.StringValues ifNoneMatch)
    {
        if (ifNoneMatch.Count == 0 || !EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags))
        {
            return false;
        }

        var ours = new EntityTagHeaderValue(body.ETag);
        return tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(ours, useStrongComparison: false));
    }
}
