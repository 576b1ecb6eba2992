using System.Text.Json;
using Microsoft.Extensions.Hosting;

namespace AspireShop.AppHost.Infrastructure.Processes;

/// <summary>
/// Prometheus's view of the services: one file_sd file per service listing the address of each running replica
/// (its own port, from the ASPNETCORE_URLS the orchestrator gave it, not the shared proxy, so each replica is scraped
/// on its own), labelled job = service and replica = instance. Rewritten whenever a replica starts or stops;
/// Prometheus re-reads the files by itself.
/// </summary>
internal sealed class PrometheusTargets(ResourceNotificationService notifications, PrometheusProcessResource prometheus) : BackgroundService
{
    private readonly Dictionary<string, (string Service, string Address)> _running = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var change in notifications.WatchAsync(stoppingToken))
            {
                if (change.Resource is not ProjectResource)
                {
                    continue;
                }

                var address = change.Snapshot.State?.Text == KnownResourceStates.Running ? AddressOf(change.Snapshot) : null;
                var changed = address is null
                    ? _running.Remove(change.ResourceId)
                    : !_running.TryGetValue(change.ResourceId, out var known) || known.Address != address;
                if (address is not null)
                {
                    _running[change.ResourceId] = (change.Resource.Name, address);
                }

                if (changed)
                {
                    await WriteAsync(change.Resource.Name, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The AppHost is stopping.
        }
    }

    private static string? AddressOf(CustomResourceSnapshot snapshot)
        => snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value?.Split(';')
            .Select(url => Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == "http" ? $"{uri.Host}:{uri.Port}" : null)
            .FirstOrDefault(address => address is not null);

    private async Task WriteAsync(string service, CancellationToken cancellationToken)
    {
        var groups = _running.Where(r => r.Value.Service == service)
            .Select(r => new { targets = new[] { r.Value.Address }, labels = new Dictionary<string, string> { ["job"] = service, ["replica"] = r.Key } });
        Directory.CreateDirectory(prometheus.TargetsDirectory);
        var path = Path.Combine(prometheus.TargetsDirectory, $"{service}.json");
        // Written aside and renamed, so Prometheus never reads half a file.
        await File.WriteAllTextAsync(path + ".tmp", JsonSerializer.Serialize(groups), cancellationToken);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
