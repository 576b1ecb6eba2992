using System.Globalization;
using System.Net.Http.Json;
using AspireShop.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Ordering.Api.Orders;
using Tests.Catalog;
using Tests.Ordering;
using Tests.Web;
using Tests.WholeGraph;
using Xunit.Abstractions;

namespace Tests.Drills;

/// <summary>
/// The dashboard's load and drill commands, run through the AppHost's resource command API as the dashboard runs
/// them, each with its effect checked on the running graph.
/// </summary>
[Collection(FaultGraphCollection.Name)]
public sealed class DrillCommandTests(FaultGraphFixture graph, ITestOutputHelper output)
{
    private static readonly TimeSpan CommandWait = TimeSpan.FromMinutes(3);

    private ResourceCommandService Commands => graph.App.Services.GetRequiredService<ResourceCommandService>();

    [Fact]
    public async Task OrdersFromTheLoadGeneratorAreAllAccountedForAfterAWorkerAndAnApiReplicaAreKilled()
    {
        await using var generator = await StartLoadGeneratorAsync();
        var load = graph.App.CreateHttpClient(ResourceNames.LoadGenerator);

        // Until stopped, so orders are still being sent when both kills are over, however long they take.
        await RunAsync(ResourceNames.LoadGenerator, "load-orders", ("rate", 30), ("seconds", 0));
        await Eventually.TrueAsync(async () => await AcceptedAsync(load) >= 30, CommandWait, "the load generator's orders are accepted");

        foreach (var service in new[] { ResourceNames.OrderingWorker, ResourceNames.OrderingApi })
        {
            var (replica, _) = (await graph.App.RunningReplicasAsync(service))[0];
            var before = ProcessIdOf(replica);
            var decidedBefore = await DecidedLoadOrdersAsync();
            var kill = await RunAsync(replica, "drill-kill");
            output.WriteLine($"{replica}: {kill.Message}");
            Assert.NotEqual(before, ProcessIdOf(replica));
            Assert.False(ProcessIsAlive(before), $"{replica}'s old process {before} still runs");
            Assert.Equal(HealthStatus.Healthy, State(replica).Snapshot.HealthStatus);
            // The other replica went on deciding while this one was killed and restarted.
            var decidedAfter = await DecidedLoadOrdersAsync();
            output.WriteLine($"{replica}: {decidedAfter - decidedBefore} orders decided while the drill ran");
            Assert.True(decidedAfter > decidedBefore, $"no order was decided while {replica} was killed and restarted ({decidedBefore} before, {decidedAfter} after)");
        }

        // And after both drills, while the run goes on.
        var decidedAfterDrills = await DecidedLoadOrdersAsync();
        await Eventually.TrueAsync(async () => await DecidedLoadOrdersAsync() > decidedAfterDrills, CommandWait, "orders are decided after the drills");

        await RunAsync(ResourceNames.LoadGenerator, "load-stop");
        Assert.True((await load.GetFromJsonAsync<List<LoadStatusDto>>("/load"))!.All(run => !run.Running), "the orders run stopped");
        // The check waits for decisions and mails still in flight itself (its drain bound), and says it did.
        var check = await RunAsync(ResourceNames.LoadGenerator, "load-check");
        output.WriteLine(check.Message);
        output.WriteLine(check.Data?.Value);
        Assert.Contains(" 0 lost, 0 doubled, 0 never sent", check.Message);
        Assert.Contains(" 0 undecided", check.Message);
        Assert.Contains(" 0 owed, 0 missing", check.Message);
        Assert.Contains("; drained after ", check.Message);
        Assert.Matches(@"^(\d+) accepted, \1 stored, ", check.Message);
        Assert.Contains("| **lost** (accepted, stored nowhere) | 0 |", check.Data!.Value);

        // The generator's own metrics, scraped by Prometheus like every service's.
        using var prometheus = new HttpClient { BaseAddress = graph.App.GetEndpoint("prometheus", "http") };
        await Eventually.TrueAsync(async () => (await prometheus.GetStringAsync(
                "/api/v1/query?query=" + Uri.EscapeDataString("sum(aspireshop_load_responses_total{job=\"load-generator\",aspireshop_load_scenario=\"orders\",http_response_status_code=\"202\"})")))
            .Contains("\"value\":[", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60), "Prometheus has the load generator's answered orders");
    }

    [Fact]
    public async Task TheReadMixAndShopFrontBrowsingRunUntilStoppedAndEveryAnswerIsCounted()
    {
        await using var generator = await StartLoadGeneratorAsync();
        var load = graph.App.CreateHttpClient(ResourceNames.LoadGenerator);

        await RunAsync(ResourceNames.LoadGenerator, "load-reads", ("rate", 50), ("seconds", 0));
        await RunAsync(ResourceNames.LoadGenerator, "load-browse", ("rate", 5), ("seconds", 0));
        await Eventually.TrueAsync(async () => (await load.GetFromJsonAsync<List<LoadStatusDto>>("/load"))!
                .Count(run => run.Running && run.Answers.GetValueOrDefault("200") >= 10) == 2,
            CommandWait, "both scenarios are answered");

        var stop = await RunAsync(ResourceNames.LoadGenerator, "load-stop");
        output.WriteLine(stop.Data?.Value);
        var runs = (await load.GetFromJsonAsync<List<LoadStatusDto>>("/load"))!;
        Assert.Equal(["Browse", "Reads"], runs.Select(run => run.Scenario).Order());
        Assert.All(runs, run =>
        {
            Assert.False(run.Running);
            // Every request sent was answered (nothing left in flight once stopped), and answered 200.
            Assert.Equal(run.Sent, run.Answers.Values.Sum());
            Assert.Equal(run.Sent, run.Answers.GetValueOrDefault("200"));
        });
    }

    [Fact]
    public async Task FreezingTheBrokerStopsItsProcessesForTheSecondsGivenAndOrdersAcceptedMeanwhileAreDecidedAfter()
    {
        var broker = ProcessIdOf(ResourceNames.Messaging);
        var freeze = RunAsync(ResourceNames.Messaging, "drill-freeze", ("seconds", 6));
        await Eventually.TrueAsync(() => ProcessState(broker) == 'T', TimeSpan.FromSeconds(10), "the broker's process is stopped", TimeSpan.FromMilliseconds(50));

        using var buyer = await BuyerTokens.ClientForAsync(graph.App, $"freeze-{Guid.NewGuid():N}");
        var product = await TestProducts.CreateAsync(graph.App, stock: 10);
        using var submit = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
        {
            Headers = { { OrdersApi.IdempotencyKeyHeader, Guid.NewGuid().ToString() } },
            Content = JsonContent.Create(new SubmitOrderRequest([new OrderLineRequest(product.Id, 1)], "Drill Buyer", "drill@example.com",
                new AddressRequest("1 Drill Road", "Leeds", "LS1 1AA", "United Kingdom"))),
        };
        using var answer = await buyer.SendAsync(submit);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, answer.StatusCode);
        var order = (await answer.Content.ReadFromJsonAsync<OrderDto>())!;
        Assert.Equal('T', ProcessState(broker));

        var result = await freeze;
        Assert.True(result.Success, result.Message);
        Assert.NotEqual('T', ProcessState(broker));
        var decided = await Eventually.UntilAsync(async () => (await buyer.GetFromJsonAsync<OrderDto>($"/api/v1/orders/{order.Id}"))!,
            o => o.Status != "Submitted", CommandWait, TimeSpan.FromMilliseconds(250));
        Assert.Equal("Confirmed", decided.Status);
    }

    [Fact]
    public async Task StoppingRedisForTheSecondsGivenTakesItDownAndBringsItBackHealthy()
    {
        var seen = new List<string?>();
        using var watching = new CancellationTokenSource();
        var watch = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in graph.App.Services.GetRequiredService<ResourceNotificationService>().WatchAsync(watching.Token))
                {
                    if (e.Resource.Name == ResourceNames.Cache)
                    {
                        seen.Add(e.Snapshot.State?.Text);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Watched long enough.
            }
        });

        var result = await RunAsync(ResourceNames.Cache, "drill-outage", ("seconds", 3));
        await watching.CancelAsync();
        await watch;
        output.WriteLine($"{result.Message}; states: {string.Join(", ", seen)}");
        Assert.Contains(seen, state => KnownResourceStates.TerminalStates.Contains(state));
        Assert.Equal(HealthStatus.Healthy, State(ResourceNames.Cache).Snapshot.HealthStatus);
        using var shopper = new ShopFrontClient(graph.App.GetEndpoint(ResourceNames.WebFrontend));
        await shopper.UntilBothReplicasServeAsync("/cart", "The cart is unavailable right now");
        await shopper.UntilBothReplicasServeAsync("/", "The catalog is unavailable right now");
    }

    [Fact]
    public async Task PausingReplayPausesTheStandbyForTheSecondsGivenThenResumesIt()
    {
        var pause = RunAsync("postgres-replica1", "drill-pause-replay", ("seconds", 4));
        await using var standby = NpgsqlDataSource.Create((await graph.App.GetConnectionStringAsync("postgres-replica1"))!);
        await Eventually.TrueAsync(async () => await PausedAsync(standby), TimeSpan.FromSeconds(10), "replay is paused", TimeSpan.FromMilliseconds(100));

        var result = await pause;
        output.WriteLine(result.Message);
        Assert.True(result.Success, result.Message);
        Assert.False(await PausedAsync(standby));
    }

    [Fact]
    public async Task MovingABucketFromTheDashboardSwitchesItsShardAndMovingItBackRestoresIt()
    {
        const int bucket = 41;
        var home = await ShardOfAsync(bucket);
        var other = home == 1 ? 2 : 1;
        // Every replica of Ordering.Api offers the command (the dashboard lists each); any of them moves the bucket.
        var (replica, _) = (await graph.App.RunningReplicasAsync(ResourceNames.OrderingApi))[^1];

        var moved = await RunAsync(replica, "drill-move-bucket", ("bucket", bucket), ("shard", other));
        output.WriteLine(moved.Data?.Value);
        Assert.Equal(other, await ShardOfAsync(bucket));

        await RunAsync(replica, "drill-move-bucket", ("bucket", bucket), ("shard", home));
        Assert.Equal(home, await ShardOfAsync(bucket));

        var refused = await Commands.ExecuteCommandAsync(replica, "drill-move-bucket",
            Arguments(("bucket", 64), ("shard", other)), CancellationToken.None);
        Assert.False(refused.Success, "bucket 64 does not exist");
    }

    /// <summary>Starts the load generator as the dashboard's start button does; disposing stops it, as the rest of the suite expects.</summary>
    private async Task<IAsyncDisposable> StartLoadGeneratorAsync()
    {
        Assert.True((await Commands.ExecuteCommandAsync(ResourceNames.LoadGenerator, KnownResourceCommands.StartCommand)).Success);
        using var timeout = new CancellationTokenSource(CommandWait);
        await graph.App.Services.GetRequiredService<ResourceNotificationService>()
            .WaitForResourceAsync(ResourceNames.LoadGenerator, e => e.Snapshot.HealthStatus == HealthStatus.Healthy, timeout.Token);
        return new Stopping(Commands);
    }

    private sealed class Stopping(ResourceCommandService commands) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
            => Assert.True((await commands.ExecuteCommandAsync(ResourceNames.LoadGenerator, KnownResourceCommands.StopCommand)).Success);
    }

    private async Task<ExecuteCommandResult> RunAsync(string resource, string command, params (string Name, int Value)[] arguments)
    {
        using var timeout = new CancellationTokenSource(CommandWait);
        var result = await Commands.ExecuteCommandAsync(resource, command, Arguments(arguments), timeout.Token);
        Assert.True(result.Success, $"{command} on {resource}: {result.Message}");
        return result;
    }

    private static InteractionInputCollection Arguments(params (string Name, int Value)[] arguments)
        => new([.. arguments.Select(a => new InteractionInput
        {
            Name = a.Name,
            InputType = InputType.Number,
            Value = a.Value.ToString(CultureInfo.InvariantCulture),
        })]);

    private ResourceEvent State(string resource)
    {
        Assert.True(graph.App.Services.GetRequiredService<ResourceNotificationService>().TryGetCurrentState(resource, out var e), $"no state of {resource}");
        return e;
    }

    private int ProcessIdOf(string resource)
        => Convert.ToInt32(State(resource).Snapshot.Properties.Single(p => p.Name == "executable.pid").Value, CultureInfo.InvariantCulture);

    private static bool ProcessIsAlive(int pid) => File.Exists($"/proc/{pid}/stat") && ProcessState(pid) != 'Z';

    /// <summary>The process's state letter from /proc (R running, S sleeping, T stopped by a signal, Z zombie).</summary>
    private static char ProcessState(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }

    /// <summary>The load generator's orders decided so far (its buyers are load-buyer-0 to load-buyer-499), on every shard.</summary>
    private Task<long> DecidedLoadOrdersAsync()
        => OrderShardDatabases.SumAsync(graph.App,
            """SELECT count(*) FROM ordering.orders WHERE "BuyerId" LIKE 'load-buyer-%' AND "Status" <> 'Submitted'""");

    private static async Task<long> AcceptedAsync(HttpClient load)
        => (await load.GetFromJsonAsync<List<LoadStatusDto>>("/load"))!.Sum(run => run.Answers.GetValueOrDefault("202"));

    private static async Task<bool> PausedAsync(NpgsqlDataSource standby)
        => (bool)(await standby.CreateCommand("SELECT pg_is_wal_replay_paused()").ExecuteScalarAsync())!;

    private async Task<int> ShardOfAsync(int bucket)
    {
        await using var catalog = NpgsqlDataSource.Create((await graph.App.GetConnectionStringAsync(ResourceNames.CatalogDb))!);
        await using var select = catalog.CreateCommand("""SELECT "Shard" FROM sharding.bucket_map WHERE "Bucket" = $1""");
        select.Parameters.Add(new NpgsqlParameter { Value = bucket });
        return (int)(await select.ExecuteScalarAsync())!;
    }

    private sealed record LoadStatusDto(string Scenario, bool Running, long Sent, Dictionary<string, long> Answers);
}
