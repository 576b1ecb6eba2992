using System.Diagnostics;
using AspireShop.ServiceDefaults.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;

namespace Tests.Unit.Telemetry;

public sealed class TraceRateSamplerTests
{
    [Fact]
    public void KeepsAtMostTheBudgetAtOnce()
    {
        var sampler = new TraceRateSampler(5, new SteppedClock());

        Assert.Equal(5, Kept(sampler, 100));
    }

    [Fact]
    public void TheBudgetComesBackWithTimeButNeverMoreThanOneSecondsWorth()
    {
        var clock = new SteppedClock();
        var sampler = new TraceRateSampler(4, clock);
        Kept(sampler, 100);

        clock.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal(2, Kept(sampler, 100));

        clock.Advance(TimeSpan.FromSeconds(0.25));
        Assert.Equal(1, Kept(sampler, 100));

        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(4, Kept(sampler, 100));
    }

    [Fact]
    public void ServiceDefaultsKeepTheConfiguredNumberOfTracesAService()
    {
        Assert.InRange(RecordedOf(50, ("Telemetry:TracesPerSecond", "3")), 3, 4);
    }

    [Fact]
    public void TheStandardSamplerSettingChoosesInstead()
    {
        Assert.Equal(50, RecordedOf(50, ("Telemetry:TracesPerSecond", "3"), ("OTEL_TRACES_SAMPLER", "always_on")));
    }

    [Fact]
    public void ANegativeBudgetIsRefusedAtStart()
    {
        var problem = Assert.Throws<InvalidOperationException>(() => RecordedOf(1, ("Telemetry:TracesPerSecond", "-1")));
        Assert.Contains("Telemetry:TracesPerSecond", problem.Message);
    }

    private static int Kept(Sampler sampler, int traces) => Enumerable.Range(0, traces).Count(_ =>
        sampler.ShouldSample(new SamplingParameters(default, ActivityTraceId.CreateRandom(), "GET /", ActivityKind.Server)).Decision
            == SamplingDecision.RecordAndSample);

    /// <summary>How many of <paramref name="traces"/> root activities a service built with the defaults records.</summary>
    private static int RecordedOf(int traces, params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = $"sampler-test-{Guid.NewGuid():N}" });
        foreach (var (key, value) in settings)
        {
            builder.Configuration[key] = value;
        }

        builder.AddServiceDefaults();
        using var host = builder.Build();
        _ = host.Services.GetRequiredService<TracerProvider>();
        using var source = new ActivitySource(builder.Environment.ApplicationName);
        var recorded = 0;
        for (var i = 0; i < traces; i++)
        {
            using var activity = source.StartActivity("order");
            recorded += activity is { Recorded: true } ? 1 : 0;
        }

        return recorded;
    }

    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
