namespace Tests.WholeGraph;

/// <summary>One running shop graph, shared by every test class of <see cref="ShopGraphCollection"/>.</summary>
public sealed class ShopGraphFixture : IAsyncLifetime
{
    public string DataRoot { get; } = ShopGraph.NewDataRoot();

    public DistributedApplication App { get; private set; } = null!;

    public TimeSpan TimeToHealthy { get; private set; }

    public async Task InitializeAsync() => (App, TimeToHealthy) = await ShopGraph.StartHealthyAsync(DataRoot);

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        ShopGraph.DeleteDataRoot(DataRoot);
    }
}
