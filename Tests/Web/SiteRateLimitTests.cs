using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Tests.WholeGraph;

namespace Tests.Web;

/// <summary>
/// The public site's limits per client address, on a replica's own port (the orchestrator's proxy would make every
/// client one address), with clients that connect from addresses of their own on the loopback network.
/// </summary>
[Collection(FaultGraphCollection.Name)]
public sealed class SiteRateLimitTests(FaultGraphFixture graph)
{
    [Fact]
    public async Task OneClientFloodingTheSiteGets429sWhileAnotherClientIsServedInTheSameSecond()
    {
        var site = (await graph.App.RunningReplicasAsync("web-blazor"))[0].Http;
        using var flooder = ClientFrom(IPAddress.Parse("127.0.0.2"), site);
        using var shopper = ClientFrom(IPAddress.Parse("127.0.0.3"), site);
        // Returning visitors: their first page view gives them their buyer cookie.
        (await flooder.GetAsync("/")).EnsureSuccessStatusCode();
        (await shopper.GetAsync("/")).EnsureSuccessStatusCode();

        var refused = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var answers = new ConcurrentBag<HttpStatusCode>();
        var flood = Parallel.ForEachAsync(Enumerable.Range(0, FaultGraphFixture.SitePerClientPerSecond * 12), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (i, ct) =>
            {
                // A forwarded address of its own on every request: not trusted here (no ingress in front), so it
                // buys the flooder no fresh limit.
                using var request = new HttpRequestMessage(HttpMethod.Get, "/app.css") { Headers = { { "X-Forwarded-For", $"203.0.113.{i % 250}" } } };
                var answer = await flooder.SendAsync(request, ct);
                answers.Add(answer.StatusCode);
                if (answer.StatusCode != HttpStatusCode.TooManyRequests || !refused.TrySetResult(answer))
                {
                    answer.Dispose();
                }
            });

        using var first429 = await refused.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var refusedAt = DateTime.UtcNow;
        using var served = await shopper.GetAsync("/");
        Assert.True(DateTime.UtcNow - refusedAt < TimeSpan.FromSeconds(1), "the other client's page took a second or more");
        await flood;

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Contains(HttpStatusCode.TooManyRequests, answers);
        Assert.True(int.Parse(first429.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal("text/html", first429.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Too many requests", await first429.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RequestsThatEachWouldMakeANewBuyerAreLimitedFarSooner()
    {
        var site = (await graph.App.RunningReplicasAsync("web-blazor"))[0].Http;
        using var cookieless = ClientFrom(IPAddress.Parse("127.0.0.4"), site, cookies: false);

        // Well inside what one address may send (its bucket holds SitePerClientPerSecond x 2 requests), but each
        // request, without the cookie the last one was given, would make a new buyer.
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < FaultGraphFixture.SitePerClientPerSecond; i++)
        {
            using var answer = await cookieless.GetAsync("/app.css");
            answers.Add(answer.StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, answers);
        Assert.Equal(HttpStatusCode.OK, answers[0]);
    }

    /// <summary>A client whose connections come from <paramref name="address"/>, to the replica's port on 127.0.0.1.</summary>
    private static HttpClient ClientFrom(IPAddress address, Uri site, bool cookies = true)
        => new(new SocketsHttpHandler
        {
            UseCookies = cookies,
            CookieContainer = new CookieContainer(),
            AllowAutoRedirect = false,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(address, 0));
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        { BaseAddress = site };
}
