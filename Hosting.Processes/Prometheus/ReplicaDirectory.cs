using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// Where every running replica of every service listens (its own port, from the ASPNETCORE_URLS the orchestrator
/// gave it, not the shared proxy), kept in files rewritten whenever a replica starts or stops:
/// <list type="bullet">
/// <item>for Prometheus, one file_sd file per service (a target per replica, labelled job = service and replica =
/// instance), so each replica is scraped on its own; Prometheus re-reads the files by itself;</item>
/// <item>for callers that balance requests themselves, one configuration file per service in the layout of .NET
/// service discovery (<c>services:&lt;name&gt;:&lt;scheme&gt;:&lt;n&gt;</c>), which a service loads with reload on
/// change. The orchestrator's own proxy picks a replica per connection, so a caller that keeps its connections
/// would otherwise stay on one replica.</item>
/// </list>
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ReplicaDirectory(ResourceNotificationService notifications, PrometheusProcessResource prometheus, ProcessDataRoot dataRoot)
    : BackgroundService
{
    private readonly Dictionary<string, (string Service, Uri[] Urls)> _running = [];

    public static string ServiceDiscoveryDirectory(ProcessDataRoot dataRoot) => dataRoot.For("service-discovery");

    /// <summary>The service-discovery file listing every running replica of <paramref name="service"/>.</summary>
    public static string ServiceDiscoveryFile(ProcessDataRoot dataRoot, IResource service)
        => Path.Combine(ServiceDiscoveryDirectory(dataRoot), $"{service.Name}.json");

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

                var urls = change.Snapshot.State?.Text == KnownResourceStates.Running ? UrlsOf(change.Snapshot) : [];
                var changed = urls.Length == 0
                    ? _running.Remove(change.ResourceId)
                    : !_running.TryGetValue(change.ResourceId, out var known) || !known.Urls.SequenceEqual(urls);
                if (urls.Length > 0)
                {
                    _running[change.ResourceId] = (change.Resource.Name, urls);
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

    private static Uri[] UrlsOf(CustomResourceSnapshot snapshot)
        => [.. (snapshot.EnvironmentVariables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value ?? "").Split(';')
            .Select(url => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri : null)
            .OfType<Uri>()
            .OrderBy(uri => uri.Scheme, StringComparer.Ordinal)];

    private async Task WriteAsync(string service, CancellationToken cancellationToken)
    {
        var replicas = _running.Where(r => r.Value.Service == service).OrderBy(r => r.Key, StringComparer.Ordinal).ToList();

        var targets = replicas
            .Select(r => (Replica: r.Key, Http: r.Value.Urls.FirstOrDefault(uri => uri.Scheme == Uri.UriSchemeHttp)))
            .Where(r => r.Http is not null)
            .Select(r => new { targets = new[] { $"{r.Http!.Host}:{r.Http.Port}" }, labels = new Dictionary<string, string> { ["job"] = service, ["replica"] = r.Replica } });
        await WriteAtomicallyAsync(Path.Combine(prometheus.TargetsDirectory, $"{service}.json"), targets, cancellationToken);

        var endpoints = replicas.SelectMany(r => r.Value.Urls)
            .GroupBy(uri => uri.Scheme)
            .ToDictionary(scheme => scheme.Key, scheme => scheme.Select(uri => uri.GetLeftPart(UriPartial.Authority)).ToArray());
        await WriteAtomicallyAsync(Path.Combine(ServiceDiscoveryDirectory(dataRoot), $"{service}.json"),
            new { services = new Dictionary<string, object> { [service] = endpoints } }, cancellationToken);
    }

    // Written aside and renamed, so no reader ever sees half a file.
    private static async Task WriteAtomicallyAsync(string path, object content, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path + ".tmp", JsonSerializer.Serialize(content), cancellationToken);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static class ReplicaDirectoryExtensions
{
    /// <summary>
    /// Keeps the <see cref="ReplicaDirectory"/> files while the AppHost runs: a scrape target per replica for
    /// <paramref name="prometheus"/>, and a service-discovery file per service for callers that balance themselves.
    /// </summary>
    public static IResourceBuilder<PrometheusProcessResource> WithReplicaDirectory(this IResourceBuilder<PrometheusProcessResource> prometheus)
    {
        var dataRoot = prometheus.ApplicationBuilder.LocalProcesses().DataRoot;
        // Exists before any service starts, so a service that loads a replica list from it can watch it from the start.
        Directory.CreateDirectory(ReplicaDirectory.ServiceDiscoveryDirectory(dataRoot));
        prometheus.ApplicationBuilder.Services.AddHostedService(services =>
            new ReplicaDirectory(services.GetRequiredService<ResourceNotificationService>(), prometheus.Resource, dataRoot));
        return prometheus;
    }

    /// <summary>Hands the caller, in <paramref name="variable"/>, the file that lists every running replica of <paramref name="service"/>.</summary>
    public static IResourceBuilder<T> WithReplicaEndpointsFile<T>(this IResourceBuilder<T> caller, string variable, IResourceBuilder<ProjectResource> service)
        where T : IResourceWithEnvironment
        => caller.WithEnvironment(variable, ReplicaDirectory.ServiceDiscoveryFile(caller.ApplicationBuilder.LocalProcesses().DataRoot, service.Resource));
}
