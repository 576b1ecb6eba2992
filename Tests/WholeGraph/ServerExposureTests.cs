using System.Globalization;
using AspireShop.Hosting.Processes;
using Npgsql;
using Npgsql.Replication;
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

    [Fact]
    public async Task OnlyTheStandbysRoleMayReplicateTheCatalogDatabase()
    {
        var superuser = new NpgsqlConnectionStringBuilder(await graph.App.GetConnectionStringAsync("catalogdb")) { Database = null };

        // The superuser's password is not enough: pg_hba.conf has no replication entry for it.
        await using (var refused = new PhysicalReplicationConnection(superuser.ConnectionString))
        {
            var problem = await Assert.ThrowsAsync<PostgresException>(() => refused.Open());
            Assert.Equal(PostgresErrorCodes.InvalidAuthorizationSpecification, problem.SqlState);
        }

        // The standbys' role with its own password may, and is the role every standby streams as.
        var password = await SignedTestTokens.ParameterValueAsync(graph.App, "postgres-replication-password");
        var replicator = new NpgsqlConnectionStringBuilder(superuser.ConnectionString)
        {
            Username = PostgresProcessResource.ReplicationUser,
            Password = password,
        };
        await using (var accepted = new PhysicalReplicationConnection(replicator.ConnectionString))
        {
            await accepted.Open();
            Assert.NotEmpty((await accepted.IdentifySystem()).SystemId);
        }

        await using var primary = new NpgsqlConnection(superuser.ConnectionString);
        await primary.OpenAsync();
        await using var streams = new NpgsqlCommand("SELECT usename FROM pg_stat_replication", primary);
        var streamingAs = new List<string>();
        await using (var reader = await streams.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                streamingAs.Add(reader.GetString(0));
            }
        }

        Assert.NotEmpty(streamingAs);
        Assert.All(streamingAs, role => Assert.Equal(PostgresProcessResource.ReplicationUser, role));
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
