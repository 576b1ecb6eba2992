using Catalog.Api.Catalog;
using Microsoft.AspNetCore.Http;

namespace Tests.Unit.Catalog;

public sealed class ReadConsistencyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeProvider Clock = new FixedClock(Now);

    [Fact]
    public void WithoutATokenReadsAreEventual()
    {
        Assert.True(ReadConsistency.TryParse(Request(), Clock, out var consistency));
        Assert.False(consistency.MustReadPrimary);
    }

    [Fact]
    public void AFreshWritersTokenReadsThePrimary()
    {
        var token = ReadConsistency.TokenFor(Now - ReadConsistency.Window + TimeSpan.FromMilliseconds(1));

        Assert.True(ReadConsistency.TryParse(Request(token), Clock, out var consistency));
        Assert.True(consistency.MustReadPrimary);
    }

    [Fact]
    public void ATokenOlderThanTheWindowReadsLikeAnyoneElse()
    {
        var token = ReadConsistency.TokenFor(Now - ReadConsistency.Window);

        Assert.True(ReadConsistency.TryParse(Request(token), Clock, out var consistency));
        Assert.False(consistency.MustReadPrimary);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("-5")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999")]
    [InlineData("253402300800000")] // one millisecond past DateTimeOffset.MaxValue
    public void AMalformedTokenIsAClientError(string token) => Assert.False(ReadConsistency.TryParse(Request(token), Clock, out _));

    [Fact]
    public void TwoTokensAreAClientError() => Assert.False(ReadConsistency.TryParse(Request("1", "2"), Clock, out _));

    private static HttpContext Request(params string[] tokens)
    {
        var context = new DefaultHttpContext();
        if (tokens.Length > 0)
        {
            context.Request.Headers[ReadConsistency.HeaderName] = tokens;
        }

        return context;
    }
}

/// <summary>A clock that stands still, so a test says exactly how old a token is.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
