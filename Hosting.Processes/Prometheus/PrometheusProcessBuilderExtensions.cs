using System.Runtime.Versioning;

namespace AspireShop.Hosting.Processes;

[UnsupportedOSPlatform("windows")]
public static class PrometheusProcessBuilderExtensions
{
    /// <summary>
    /// Prometheus from the installed binary, with the configuration and alert rules kept in the repository
    /// (<paramref name="configDirectory"/>, copied into its data folder at start) and a target per running replica.
    /// </summary>
    public static IResourceBuilder<PrometheusProcessResource> AddPrometheusProcess(
        this IDistributedApplicationBuilder builder, string name, string configDirectory)
    {
        var local = builder.LocalProcesses();
        var resource = new PrometheusProcessResource(name, local.Binaries.Prometheus, local.DataRoot.For(name));

        return builder.AddResource(resource)
            .WithLocalTcpEndpoint(PrometheusProcessResource.EndpointName, scheme: "http")
            .WithArgs(
                $"--config.file={Path.Combine(resource.DataDirectory, "prometheus.yml")}",
                $"--storage.tsdb.path={Path.Combine(resource.DataDirectory, "tsdb")}",
                "--storage.tsdb.retention.time=1d",
                "--web.listen-address")
            .WithArgs(ReferenceExpression.Create($"127.0.0.1:{resource.Endpoint.Property(EndpointProperty.TargetPort)}"))
            .WithEnvironment(ProcessDataRoot.MarkerVariable, local.DataRoot.Path)
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
