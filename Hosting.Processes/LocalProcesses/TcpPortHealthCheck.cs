using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// Healthy once something accepts TCP connections on the endpoint's target port: all epmd (which speaks no protocol a
/// health-check library knows) needs, in a dozen lines rather than a network health-check package.
/// </summary>
public sealed class TcpPortHealthCheck(EndpointReference endpoint) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var port = int.Parse((await endpoint.Property(EndpointProperty.TargetPort).GetValueAsync(cancellationToken))!);
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (SocketException e)
        {
            return HealthCheckResult.Unhealthy(e.Message);
        }
    }
}
