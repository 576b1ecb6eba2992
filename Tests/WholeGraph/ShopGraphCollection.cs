namespace Tests.WholeGraph;

/// <summary>The functional test classes that share one running shop graph (started once for all of them).</summary>
[CollectionDefinition(Name)]
public sealed class ShopGraphCollection : ICollectionFixture<ShopGraphFixture>
{
    public const string Name = "shop graph";
}

/// <summary>The test classes that kill, stop, freeze or move parts of the graph: they share a graph of their own.</summary>
[CollectionDefinition(Name)]
public sealed class FaultGraphCollection : ICollectionFixture<FaultGraphFixture>
{
    public const string Name = "fault graph";
}
