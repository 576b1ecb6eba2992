namespace AspireShop.Hosting.Processes;

/// <summary>
/// Prometheus run as a local process, scraping every replica of every service: <see cref="ReplicaDirectory"/>
/// keeps the file-based service discovery files in <see cref="TargetsDirectory"/> up to date.
/// </summary>
public sealed class PrometheusProcessResource(string name, string command, string dataDirectory)
    : ExecutableResource(name, command, dataDirectory)
{
    public const string EndpointName = "http";

    private EndpointReference? _endpoint;

    public string DataDirectory { get; } = dataDirectory;

    public string TargetsDirectory => Path.Combine(DataDirectory, "targets");

    public EndpointReference Endpoint => _endpoint ??= new(this, EndpointName);
}
