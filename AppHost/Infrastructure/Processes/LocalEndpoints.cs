using System.Net;
using System.Net.Sockets;

namespace AspireShop.AppHost.Infrastructure.Processes;

public static class LocalEndpoints
{
    /// <summary>
    /// Gives a backing server a loopback TCP endpoint on a port that is free now. The endpoint is not proxied: the
    /// port is then known to the AppHost itself (set-up steps such as pg_basebackup and config files need it, while a
    /// proxied target port is only resolved by the orchestrator at launch) and no proxy sits in the data path
    /// of the database, cache and broker, which would cost throughput under load.
    /// </summary>
    public static IResourceBuilder<T> WithLocalTcpEndpoint<T>(this IResourceBuilder<T> builder, string name, string scheme = "tcp")
        where T : IResourceWithEndpoints
    {
        var port = FreePort();
        return builder.WithEndpoint(port: port, targetPort: port, scheme: scheme, name: name, isProxied: false);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
