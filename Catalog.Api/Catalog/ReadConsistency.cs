using System.Globalization;

namespace Catalog.Api.Catalog;

/// <summary>
/// Read-your-writes. Every write answers with an <c>X-Consistency-Token</c> (the commit time); a client that sends
/// it back reads from the PRIMARY, bypassing cache and replicas, until <see cref="Window"/> has passed since its
/// write. After that every cache and replica is guaranteed to show the write: the writer invalidates the cache only
/// once the replicas have replayed its commit, and another API replica's in-memory copy lives at most
/// <see cref="CatalogCacheOptions.LocalExpiration"/>.
/// </summary>
public readonly record struct ReadConsistency(bool MustReadPrimary)
{
    public const string HeaderName = "X-Consistency-Token";

    public static readonly TimeSpan Window = TimeSpan.FromSeconds(15);

    public static ReadConsistency Eventual { get; } = new(false);

    public static string TokenFor(DateTimeOffset commitTime)
        => commitTime.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads the header; a malformed token is a client error, so it is reported rather than ignored.</summary>
    public static bool TryParse(HttpContext context, TimeProvider clock, out ReadConsistency consistency)
    {
        consistency = Eventual;
        var header = context.Request.Headers[HeaderName];
        if (header.Count == 0)
        {
            return true;
        }

        if (header.Count > 1 || !long.TryParse(header[0], NumberStyles.None, CultureInfo.InvariantCulture, out var unixMilliseconds)
            || unixMilliseconds > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            return false;
        }

        var age = clock.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);
        consistency = new ReadConsistency(age < Window);
        return true;
    }
}
