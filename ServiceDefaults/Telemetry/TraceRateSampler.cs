using OpenTelemetry.Trace;

namespace AspireShop.ServiceDefaults.Telemetry;

/// <summary>
/// Keeps the traces a service starts at up to <c>perSecond</c> a second and drops the rest (a token bucket that holds
/// one second's worth). A developer clicking through the shop sees every trace in the dashboard; a load test or a busy
/// shop keeps a steady trickle instead of a span per SQL statement of every request, which on a small machine costs
/// more CPU than the requests themselves (docs/benchmarks.md). Used under <see cref="ParentBasedSampler"/>, so it
/// decides only for traces that start here and every service follows the decision of the trace it joins.
/// </summary>
/// <remarks>
/// Written here because OpenTelemetry .NET itself ships only fixed-ratio samplers, and a ratio either keeps every
/// span under load or drops most of a developer's clicks; the contributed rate-limiting samplers are vendor packages
/// (AWS X-Ray's) and not served to this build.
/// </remarks>
public sealed class TraceRateSampler : Sampler
{
    private readonly double _perSecond;
    private readonly TimeProvider _clock;
    private readonly Lock _bucket = new();
    private double _tokens;
    private long _refilledAt;

    public TraceRateSampler(double perSecond, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perSecond);
        _perSecond = perSecond;
        _clock = clock;
        _tokens = perSecond;
        _refilledAt = clock.GetTimestamp();
        Description = $"TraceRateSampler{{{perSecond}/s}}";
    }

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        lock (_bucket)
        {
            var now = _clock.GetTimestamp();
            _tokens = Math.Min(_perSecond, _tokens + (_clock.GetElapsedTime(_refilledAt, now).TotalSeconds * _perSecond));
            _refilledAt = now;
            if (_tokens < 1)
            {
                return new SamplingResult(SamplingDecision.Drop);
            }

            _tokens--;
            return new SamplingResult(SamplingDecision.RecordAndSample);
        }
    }
}
