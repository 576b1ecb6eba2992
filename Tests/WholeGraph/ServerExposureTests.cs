using System.Globalization;
using AspireShop.Hosting.Processes;
using Xunit.Abstractions;

namespace Tests.WholeGraph;

/// <summary>What the servers the AppHost runs as local processes expose to the network: nothing beyond this machine.</summary>
[Collection(ShopGraphCollection.Name)]
public sealed class ServerExposureTests(ShopGraphFixture graph, ITestOutputHelper output)
{
    [Fact]
    public void EveryServerListensOnLoopbackOnly()
    {
        var servers = BackingProcesses.Using(graph.DataRoot);
        var sockets = servers
            .SelectMany(server => SocketInodes(server.Id).Select(inode => (inode, server)))
            .GroupBy(socket => socket.inode)
            .ToDictionary(socket => socket.Key, socket => socket.First().server);

        var listening = ListeningSockets().Where(socket => sockets.ContainsKey(socket.Inode)).ToList();
        foreach (var socket in listening)
        {
            output.WriteLine($"{sockets[socket.Inode].Name} (pid {sockets[socket.Inode].Id}) listens on {socket.Address}:{socket.Port}");
        }

        // PostgreSQL, Redis, RabbitMQ (AMQP, management, Erlang distribution), its port mapper and Prometheus.
        foreach (var program in new[] { "postgres", "redis-server", "beam.smp", "epmd", "prometheus" })
        {
            Assert.Contains(listening, socket => sockets[socket.Inode].Name.StartsWith(program, StringComparison.Ordinal));
        }

        var exposed = listening.Where(socket => socket.Address is not ("127.0.0.1" or "::1")).ToList();
        Assert.True(exposed.Count == 0, "listening beyond loopback: " + string.Join(", ",
            exposed.Select(socket => $"{sockets[socket.Inode].Name} on {socket.Address}:{socket.Port}")));
    }

    private static IEnumerable<string> SocketInodes(int pid)
    {
        string[] links;
        try
        {
            links = Directory.GetFiles($"/proc/{pid}/fd");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break; // the process ended meanwhile
        }

        foreach (var link in links)
        {
            var target = new FileInfo(link).LinkTarget;
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
            {
                yield return target["socket:[".Length..^1];
            }
        }
    }

    private sealed record ListeningSocket(string Address, int Port, string Inode);

    // /proc/net/tcp{,6}: "sl local_address rem_address st ... inode", addresses as hex words in host byte order.
    private static IEnumerable<ListeningSocket> ListeningSockets()
        => new[] { "/proc/net/tcp", "/proc/net/tcp6" }
            .SelectMany(table => File.ReadLines(table).Skip(1))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields[3] == "0A")
            .Select(fields =>
            {
                var local = fields[1].Split(':');
                return new ListeningSocket(AddressOf(local[0]), int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture), fields[9]);
            });

    private static string AddressOf(string hex)
    {
        var words = Enumerable.Range(0, hex.Length / 8)
            .SelectMany(i => BitConverter.GetBytes(uint.Parse(hex.AsSpan(i * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture)))
            .ToArray();
        return new System.Net.IPAddress(words).ToString();
    }
}
