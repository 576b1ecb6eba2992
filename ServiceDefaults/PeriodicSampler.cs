using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AspireShop.ServiceDefaults;

/// <summary>
/// Reads something only a server knows (replication lag, a backlog, a queue's depth) every few seconds for a gauge,
/// which reports the last sample, so a metrics scrape costs no query. A failed sample (the server is down or starting,
/// which the health checks report) keeps the last one and is logged at Debug.
/// </summary>
public abstract class PeriodicSampler(ILogger logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>What is sampled, for the log ("the order shards").</summary>
    protected abstract string What { get; }

    protected abstract Task SampleAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await SampleAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogDebug("Sampling {What} failed: {Problem}", What, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
