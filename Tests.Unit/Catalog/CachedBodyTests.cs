using System.Text;
using Catalog.Api.Catalog;
using Microsoft.AspNetCore.Http;

namespace Tests.Unit.Catalog;

public sealed class CachedBodyTests
{
    private static readonly CachedBody Product = CachedBody.Of(Encoding.UTF8.GetBytes("""{"id":1,"name":"Mug"}"""));

    [Fact]
    public void TheEntityTagFollowsTheBytes()
    {
        Assert.Equal(Product.ETag, CachedBody.Of(Encoding.UTF8.GetBytes("""{"id":1,"name":"Mug"}""")).ETag);
        Assert.NotEqual(Product.ETag, CachedBody.Of(Encoding.UTF8.GetBytes("""{"id":1,"name":"Cup"}""")).ETag);
        Assert.Matches("^\"[0-9a-f]{24}\"$", Product.ETag);
    }

    [Fact]
    public async Task AClientWithoutTheBodyGetsItWithItsTagAndCachePolicy()
    {
        var context = await ServeAsync(ifNoneMatch: null);

        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.Equal(Product.ETag, context.Response.Headers.ETag);
        Assert.Equal("public, max-age=5", context.Response.Headers.CacheControl);
        Assert.Equal("application/json", context.Response.ContentType);
        Assert.Equal(Product.Body, ((MemoryStream)context.Response.Body).ToArray());
    }

    [Theory]
    [InlineData(true)] // the exact tag
    [InlineData(false)] // the weak form of it, as a proxy may send it back
    public async Task AClientWithTheBodyGets304AndNoBody(bool strong)
    {
        var context = await ServeAsync(strong ? Product.ETag : $"W/{Product.ETag}");

        Assert.Equal(StatusCodes.Status304NotModified, context.Response.StatusCode);
        Assert.Empty(((MemoryStream)context.Response.Body).ToArray());
    }

    [Theory]
    [InlineData("*")]
    [InlineData("\"other\", \"tags\", *")]
    public async Task AnyTagMatchesTheWildcard(string ifNoneMatch)
        => Assert.Equal(StatusCodes.Status304NotModified, (await ServeAsync(ifNoneMatch)).Response.StatusCode);

    [Theory]
    [InlineData("\"0123456789abcdef01234567\"")]
    [InlineData("not a tag list")]
    public async Task AnotherOrUnreadableTagGetsTheBody(string ifNoneMatch)
        => Assert.Equal(StatusCodes.Status200OK, (await ServeAsync(ifNoneMatch)).Response.StatusCode);

    private static async Task<HttpContext> ServeAsync(string? ifNoneMatch)
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        if (ifNoneMatch is not null)
        {
            context.Request.Headers.IfNoneMatch = ifNoneMatch;
        }

        await new CachedBodyResult(Product, "application/json", "public, max-age=5").ExecuteAsync(context);
        return context;
    }
}
