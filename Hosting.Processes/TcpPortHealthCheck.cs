using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// Healthy once something accepts TCP connections on the endpoint's target port. Written here because the
/// library one (AspNetCore.HealthChecks.Network) is not among the packages served here, and this is all epmd needs.
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
