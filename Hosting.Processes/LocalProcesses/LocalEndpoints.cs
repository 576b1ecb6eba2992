using System.Net;
using System.Net.Sockets;

namespace AspireShop.Hosting.Processes;

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

    // A port below the kernel's ephemeral range: ports from bind(0) come from that range, where any outgoing
    // connection made before the server starts (health checks, the services) can take the port first.
    private static int FreePort()
    {
        var ephemeralStart = EphemeralRangeStart();
        var low = Math.Min(20_000, ephemeralStart - 1_000);
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(low, ephemeralStart);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: try another.
            }
        }

        throw new LocalProcessSetupException($"no free TCP port found between {low} and {ephemeralStart} on loopback.");
    }

    private static int EphemeralRangeStart()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        return File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], out var start)
            ? start
            : 32_768;
    }
}
