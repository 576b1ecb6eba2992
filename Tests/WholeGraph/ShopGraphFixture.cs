using Tests.Observability;

namespace Tests.WholeGraph;

/// <summary>
/// One running shop graph in the ScaleOut topology (two replicas of every service, two order shards), shared by every
/// test class of <see cref="ShopGraphCollection"/>. Its services export
/// their traces and logs to <see cref="Telemetry"/>, an OTLP receiver in the test process.
/// </summary>
public class ShopGraphFixture : IAsyncLifetime
{
    private static readonly string[] Services = ["catalog-api", "ordering-api", "ordering-worker", "web-blazor"];

    public string DataRoot { get; } = ShopGraph.NewDataRoot();

    public OtlpReceiver Telemetry { get; } = new();

    public DistributedApplication App { get; private set; } = null!;

    public TimeSpan TimeToHealthy { get; private set; }

    /// <summary>AppHost settings of this graph beyond the shape and the telemetry export.</summary>
    protected virtual string[] Settings => [];

    public async Task InitializeAsync()
        => (App, TimeToHealthy) = await ShopGraph.StartHealthyAsync(DataRoot,
            ["--Scale:Topology=ScaleOut", .. Settings,
             .. Services.SelectMany(service => Telemetry.ExporterSettings().Select(setting => $"--Services:{service}:{setting.Key}={setting.Value}"))]);

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Telemetry.DisposeAsync();
        ShopGraph.DeleteDataRoot(DataRoot);
    }
}

/// <summary>
/// A second graph of the same shape for the tests that break it on purpose (killing replicas, stopping or freezing
/// servers, pausing replay, moving buckets): they share it with each other, never with the functional tests, so a
/// drill cannot leave a functional test a half-recovered shop. The collections run one after the other, so only one
/// graph runs at a time. Its site limits each client address as a deployed one would (the run-mode defaults are those
/// of a whole local shop behind one proxy address), so a flood is one of its drills.
/// </summary>
public sealed class FaultGraphFixture : ShopGraphFixture
{
    public const int SitePerClientPerSecond = 50;
    public const int SiteNewBuyersPerSecond = 5;

    /// <summary>How long Ordering.Api gives the workers after it (re)connects before it publishes unprocessed messages again (2 minutes by default).</summary>
    public static readonly TimeSpan OutboxRecoveryAfter = TimeSpan.FromSeconds(5);

    protected override string[] Settings =>
    [
        $"--Services:web-blazor:RateLimiting:PerClientPerSecond={SitePerClientPerSecond}",
        $"--Services:web-blazor:RateLimiting:NewBuyersPerSecond={SiteNewBuyersPerSecond}",
        $"--Services:ordering-api:Ordering:OutboxRecovery:After={OutboxRecoveryAfter:c}",
    ];
}
