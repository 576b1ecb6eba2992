using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AspireShop.Hosting.Processes;

public static class StartupHealthPollingExtensions
{
    /// <summary>
    /// Until the resource has been healthy once, its health checks retry every 100 ms (for up to 10 s per check)
    /// instead of reporting the first failure. The orchestrator backs off 1, 2, 3, 4, 5 s between failed checks, so
    /// a server that is ready 0.2 s after a failed check would otherwise be noticed seconds later, and every
    /// resource waiting for it would start that much later. After the first success the checks behave as registered.
    /// </summary>
    public static IResourceBuilder<T> WithStartupHealthPolling<T>(this IResourceBuilder<T> builder) where T : IResource
    {
        builder.ApplicationBuilder.Services.PostConfigure<HealthCheckServiceOptions>(options =>
        {
            var keys = builder.Resource.Annotations.OfType<HealthCheckAnnotation>().Select(a => a.Key).ToHashSet();
            foreach (var registration in options.Registrations.Where(r => keys.Contains(r.Name)))
            {
                var inner = registration.Factory;
                var startup = new StartupState();
                registration.Factory = services => new PollingUntilFirstHealthyCheck(inner(services), startup);
            }
        });
        return builder;
    }

    private sealed class StartupState
    {
        public volatile bool HasBeenHealthy;
    }

    private sealed class PollingUntilFirstHealthyCheck(IHealthCheck inner, StartupState startup) : IHealthCheck
    {
        private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
        private static readonly TimeSpan MaxPolling = TimeSpan.FromSeconds(10);

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var deadline = DateTime.UtcNow + MaxPolling;
            while (true)
            {
                HealthCheckResult result;
                try
                {
                    result = await inner.CheckHealthAsync(context, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    result = new HealthCheckResult(context.Registration.FailureStatus, e.Message, e);
                }

                if (result.Status == HealthStatus.Healthy)
                {
                    startup.HasBeenHealthy = true;
                    return result;
                }

                if (startup.HasBeenHealthy || DateTime.UtcNow >= deadline)
                {
                    return result;
                }

                await Task.Delay(PollInterval, cancellationToken);
            }
        }
    }
}
