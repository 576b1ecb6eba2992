namespace LoadGenerator.Load;

/// <summary>What the load generator can drive: each a request mix modelled on the benchmarks' wrk scripts.</summary>
public enum LoadScenario
{
    /// <summary>Catalog.Api's read mix: 70% a product by id, 20% a list page (a third filtered), 10% a search.</summary>
    Reads,

    /// <summary>The shop front as a visitor browses it: half list pages, half product pages, through Web.Blazor.</summary>
    Browse,

    /// <summary>Orders on Ordering.Api, each by one of many buyers with its own idempotency key.</summary>
    Orders,
}
