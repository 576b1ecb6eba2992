using System.Diagnostics.Metrics;

namespace LoadGenerator.Load;

/// <summary>
/// The load generator's own view of the shop, exported like every service's metrics (the dashboard over OTLP,
/// Prometheus at /metrics): requests sent, answers by status, how long each took, and sends skipped because too
/// many requests were already waiting (the shop is slower than the rate asked for).
/// </summary>
public sealed class LoadMetrics
{
    private readonly Counter<long> _sent;
    private readonly Counter<long> _answered;
    private readonly Counter<long> _skipped;
    private readonly Histogram<double> _duration;

    public LoadMetrics(IMeterFactory meters, IHostEnvironment environment)
    {
        var meter = meters.Create(environment.ApplicationName);
        _sent = meter.CreateCounter<long>("aspireshop.load.requests", "{request}", "Requests sent, by scenario.");
        _answered = meter.CreateCounter<long>("aspireshop.load.responses", "{response}",
            "Answers by scenario and HTTP status (or the error that stood in for one).");
        _skipped = meter.CreateCounter<long>("aspireshop.load.skipped", "{request}",
            "Requests not sent because the most allowed were already in flight: the shop answers slower than the rate asks.");
        _duration = meter.CreateHistogram<double>("aspireshop.load.duration", "s", "Time from send to answer, retries included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
    }

    public void Sent(LoadScenario scenario) => _sent.Add(1, Tag(scenario));

    public void Skipped(LoadScenario scenario) => _skipped.Add(1, Tag(scenario));

    public void Answered(LoadScenario scenario, string status, TimeSpan took)
    {
        _answered.Add(1, Tag(scenario), new KeyValuePair<string, object?>("http.response.status_code", status));
        _duration.Record(took.TotalSeconds, Tag(scenario), new KeyValuePair<string, object?>("http.response.status_code", status));
    }

    private static KeyValuePair<string, object?> Tag(LoadScenario scenario) => new("aspireshop.load.scenario", scenario.ToString().ToLowerInvariant());
}
