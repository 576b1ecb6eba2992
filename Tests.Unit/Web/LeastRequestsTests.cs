using Web.Blazor.Catalog;

namespace Tests.Unit.Web;

/// <summary>The site's least-requests choice among Catalog.Api replicas.</summary>
public sealed class LeastRequestsTests
{
    private static readonly Uri First = new("http://localhost:5001");
    private static readonly Uri Second = new("http://localhost:5002");

    [Fact]
    public void PicksTheReplicaWithFewerRequestsInFlight()
    {
        var inFlight = new CatalogApiRequestsInFlight();
        using var busy1 = inFlight.Start(First);
        using var busy2 = inFlight.Start(First);
        using var busy3 = inFlight.Start(Second);

        Assert.All(Enumerable.Range(0, 10), _ => Assert.Equal(Second, inFlight.LeastBusy([First, Second])));
    }

    [Fact]
    public void FinishedRequestsNoLongerCountAndTiesTakeTurns()
    {
        var inFlight = new CatalogApiRequestsInFlight();
        var request = inFlight.Start(First);
        Assert.Equal(Second, inFlight.LeastBusy([First, Second]));

        request.Dispose();
        request.Dispose(); // twice counts once
        var picks = Enumerable.Range(0, 10).Select(_ => inFlight.LeastBusy([First, Second])).ToList();

        Assert.Equal(5, picks.Count(pick => pick == First));
        Assert.Equal(5, picks.Count(pick => pick == Second));
    }

    [Fact]
    public void NoReplicaListedMeansNoChoice() => Assert.Null(new CatalogApiRequestsInFlight().LeastBusy([]));
}

/// <summary>The site's client-address choice among Catalog.Api replicas (rendezvous hashing).</summary>
public sealed class ClientAffinityTests
{
    private static readonly Uri[] Replicas = [new("http://localhost:5001"), new("http://localhost:5002"), new("http://localhost:5003")];

    private static readonly System.Net.IPAddress[] Clients =
        [.. Enumerable.Range(1, 200).Select(i => new System.Net.IPAddress([203, 0, (byte)(i / 250), (byte)(i % 250)]))];

    [Fact]
    public void TheSameClientLandsOnTheSameReplicaEveryTimeAndInAnyListOrder()
        => Assert.All(Clients, client =>
        {
            var first = ClientAffinity.ReplicaFor(client, Replicas);
            Assert.All(Enumerable.Range(0, 5), _ => Assert.Equal(first, ClientAffinity.ReplicaFor(client, Replicas)));
            Assert.Equal(first, ClientAffinity.ReplicaFor(client, [.. Replicas.Reverse()]));
        });

    [Fact]
    public void ClientsSpreadOverEveryReplica()
    {
        var perReplica = Clients.GroupBy(client => ClientAffinity.ReplicaFor(client, Replicas)).ToDictionary(g => g.Key!, g => g.Count());

        Assert.Equal(Replicas.Length, perReplica.Count);
        Assert.All(perReplica.Values, count => Assert.InRange(count, 40, 100));
    }

    [Fact]
    public void AReplicaThatLeavesMovesOnlyItsOwnClients()
    {
        var before = Clients.ToDictionary(client => client, client => ClientAffinity.ReplicaFor(client, Replicas));
        var left = Replicas[1];

        var after = Clients.ToDictionary(client => client, client => ClientAffinity.ReplicaFor(client, [Replicas[0], Replicas[2]]));

        Assert.All(Clients.Where(client => before[client] != left), client => Assert.Equal(before[client], after[client]));
        Assert.All(Clients.Where(client => before[client] == left), client => Assert.NotEqual(left, after[client]));
    }
}
