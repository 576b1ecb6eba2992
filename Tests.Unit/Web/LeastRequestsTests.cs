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
