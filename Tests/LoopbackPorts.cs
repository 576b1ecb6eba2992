using System.Net;
using System.Net.Sockets;

namespace Tests;

/// <summary>Loopback ports no one listens on, for servers and endpoints a test starts itself.</summary>
public static class LoopbackPorts
{
    public static int Free() => Free(1)[0];

    /// <summary>Distinct free ports: every listener is held until all are chosen, so no port is given twice.</summary>
    public static int[] Free(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(listener => listener.Start());
            return [.. listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(listener => listener.Stop());
        }
    }
}
