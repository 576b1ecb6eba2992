namespace Tests.WholeGraph;

/// <summary>The test classes that share one running shop graph (started once for all of them).</summary>
[CollectionDefinition(Name)]
public sealed class ShopGraphCollection : ICollectionFixture<ShopGraphFixture>
{
    public const string Name = "shop graph";
}
