using System.Runtime.Versioning;
using Microsoft.Extensions.DependencyInjection;

namespace AspireShop.Hosting.Processes;

[UnsupportedOSPlatform("windows")]
public static class PrometheusProcessBuilderExtensions
{
    /// <summary>
    /// Prometheus from the installed binary, with the configuration and alert rules kept in the repository
    /// (<paramref name="configDirectory"/>, copied into its data folder at start) and a target per running replica.
    /// </summary>
    public static IResourceBuilder<PrometheusProcessResource> AddPrometheusProcess(
        this IDistributedApplicationBuilder builder, string name, HostBinaries binaries, ProcessDataRoot dataRoot, string configDirectory)
    {
        var resource = new PrometheusProcessResource(name, binaries.Prometheus, dataRoot.For(name));
        builder.Services.AddSingleton(resource);
        builder.Services.AddHostedService<ReplicaDirectory>();

        return builder.AddResource(resource)
            .WithLocalTcpEndpoint(PrometheusProcessResource.EndpointName, scheme: "http")
            .WithArgs(
                $"--config.file={Path.Combine(resource.DataDirectory, "prometheus.yml")}",
                $"--storage.tsdb.path={Path.Combine(resource.DataDirectory, "tsdb")}",
                "--storage.tsdb.retention.time=1d",
                "--web.listen-address")
            .WithArgs(ReferenceExpression.Create($"127.0.0.1:{resource.Endpoint.Property(EndpointProperty.TargetPort)}"))
            .WithEnvironment(ProcessDataRoot.MarkerVariable, dataRoot.Path)
            .WithHttpHealthCheck("/-/ready", endpointName: PrometheusProcessResource.EndpointName)
            .WithStartupHealthPolling()
            .OnBeforeResourceStarted((prometheus, _, ct) =>
            {
                Directory.CreateDirectory(prometheus.TargetsDirectory);
                foreach (var file in new[] { "prometheus.yml", "alerts.yml" })
                {
                    File.Copy(Path.Combine(configDirectory, file), Path.Combine(prometheus.DataDirectory, file), overwrite: true);
                }

                return Task.CompletedTask;
            });
    }
}
