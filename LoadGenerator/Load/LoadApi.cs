using AspireShop.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LoadGenerator.Load;

/// <summary>
/// The load generator's HTTP API, which the AppHost's dashboard commands call: start or stop a scenario at a rate,
/// see how each run is going, and check what became of the orders it sent.
/// </summary>
public static class LoadApi
{
    public static IHostApplicationBuilder AddLoadDriver(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient(ShopRequests.CatalogClient, client => client.BaseAddress = new($"http://{ResourceNames.CatalogApi}"));
        builder.Services.AddHttpClient(ShopRequests.OrderingClient, client => client.BaseAddress = new($"http://{ResourceNames.OrderingApi}"));
        // Browsing as a returning shopper does, with the buyer cookie the site gives: without one, every page view
        // would make a new buyer (and meet the site's much smaller limit on those).
        builder.Services.AddHttpClient(ShopRequests.ShopClient, client => client.BaseAddress = new($"http://{ResourceNames.WebFrontend}"))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseCookies = true, CookieContainer = new System.Net.CookieContainer() });
        builder.Services.AddSingleton<ShopRequests>();
        builder.Services.AddSingleton<OrderRun>();
        builder.Services.AddSingleton<LoadMetrics>();
        builder.Services.AddSingleton<LoadDriver>();
        return builder;
    }

    public static IEndpointRouteBuilder MapLoadApi(this IEndpointRouteBuilder app)
    {
        var load = app.MapGroup("/load");
        load.MapGet("/", (LoadDriver driver) => TypedResults.Ok(driver.Status()));
        load.MapPost("/{scenario}/start", StartAsync);
        load.MapPost("/{scenario}/stop", StopAsync);
        load.MapPost("/stop", StopAllAsync);
        load.MapPost("/check", CheckAsync);
        return app;
    }

    private static async Task<Results<Ok<LoadStatus>, ValidationProblem>> StartAsync(
        string scenario, int? rate, int? seconds, LoadDriver driver, CancellationToken cancellationToken)
    {
        var problems = new Dictionary<string, string[]>();
        if (!Enum.TryParse<LoadScenario>(scenario, ignoreCase: true, out var which) || !Enum.IsDefined(which))
        {
            problems["scenario"] = [$"Choose one of {string.Join(", ", Enum.GetNames<LoadScenario>()).ToLowerInvariant()}."];
        }

        if (rate is not (>= 1 and <= LoadDriver.MaxRate))
        {
            problems["rate"] = [$"Give a rate of 1 to {LoadDriver.MaxRate} requests per second."];
        }

        if (seconds is < 1)
        {
            problems["seconds"] = ["Give a duration of at least 1 second, or none to run until stopped."];
        }

        return problems.Count > 0
            ? TypedResults.ValidationProblem(problems)
            : TypedResults.Ok(await driver.StartAsync(which, rate!.Value, seconds, cancellationToken));
    }

    private static async Task<Results<Ok<LoadStatus>, NotFound>> StopAsync(string scenario, LoadDriver driver)
        => Enum.TryParse<LoadScenario>(scenario, ignoreCase: true, out var which) && await driver.StopAsync(which) is { } status
            ? TypedResults.Ok(status)
            : TypedResults.NotFound();

    private static async Task<Ok<IReadOnlyList<LoadStatus>>> StopAllAsync(LoadDriver driver)
    {
        foreach (var scenario in Enum.GetValues<LoadScenario>())
        {
            await driver.StopAsync(scenario);
        }

        return TypedResults.Ok(driver.Status());
    }

    /// <summary>How long a check waits, by default, for the orders still in flight to be decided and mailed.</summary>
    public const int DefaultDrainSeconds = 30;

    private const int MaxDrainSeconds = 300;

    private static async Task<Results<Ok<OrderAuditReport>, ValidationProblem, ProblemHttpResult>> CheckAsync(
        int? drainSeconds, OrderRun orders, CancellationToken cancellationToken)
    {
        if (drainSeconds is not (null or (>= 0 and <= MaxDrainSeconds)))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["drainSeconds"] = [$"Give 0 to {MaxDrainSeconds} seconds to wait for orders in flight, or none for {DefaultDrainSeconds}."],
            });
        }

        return await orders.CheckAsync(TimeSpan.FromSeconds(drainSeconds ?? DefaultDrainSeconds), cancellationToken) is { } report
            ? TypedResults.Ok(report)
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, detail: "No orders have been sent yet: start the orders scenario first.");
    }
}
