using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;

namespace Tests.Unit.Web;

/// <summary>
/// What every service serves besides its API, on a real Kestrel: probes everywhere; Prometheus' scrape endpoint and the
/// replica header only in Development or when asked for, since a deployed service's port is its ingress.
/// </summary>
public sealed class DefaultEndpointsTests
{
    [Theory]
    [InlineData("Development", null, true, true)]
    [InlineData("Production", null, false, false)]
    [InlineData("Production", "true", true, false)]
    public async Task MetricsAndTheReplicaHeaderAreServedOnlyWhereTheyStayInternal(string environment, string? scrape, bool metrics, bool servedBy)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        if (scrape is not null)
        {
            builder.Configuration[Extensions.ScrapeEndpointSetting] = scrape;
        }

        builder.AddServiceDefaults();
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var alive = await client.GetAsync("/alive");
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(servedBy, alive.Headers.Contains(Extensions.ServedByHeader));
        using var scraped = await client.GetAsync("/metrics");
        Assert.Equal(metrics ? HttpStatusCode.OK : HttpStatusCode.NotFound, scraped.StatusCode);
        await app.StopAsync();
    }
}
