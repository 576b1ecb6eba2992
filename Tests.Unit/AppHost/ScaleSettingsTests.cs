using AspireShop.AppHost;
using AspireShop.AppHost.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Tests.Unit.AppHost;

public sealed class ScaleSettingsTests
{
    [Fact]
    public void RunningTheShopIsLeanByDefault()
        => Assert.Equal(new ScaleSettings(ScaleTopology.Lean, 1, 1, 1, 1, 1), ScaleSettings.From(Settings(), isPublishMode: false));

    [Fact]
    public void TheDeploymentIsScaledOutByDefault()
        => Assert.Equal(new ScaleSettings(ScaleTopology.ScaleOut, 2, 2, 2, 2, 2), ScaleSettings.From(Settings(), isPublishMode: true));

    [Fact]
    public void ATopologyNamedInAnyCaseSetsTheDefaults()
        => Assert.Equal(ScaleTopology.ScaleOut, ScaleSettings.From(Settings(("Topology", "scaleout")), isPublishMode: false).Topology);

    [Fact]
    public void EachCountCanBeSetOnItsOwn()
    {
        var scale = ScaleSettings.From(Settings(("Topology", "ScaleOut"), ("CatalogApis", "3"), ("OrderShards", "1")), isPublishMode: false);

        Assert.Equal(new ScaleSettings(ScaleTopology.ScaleOut, 3, 2, 2, 2, 1), scale);
    }

    [Theory]
    [InlineData("Topology", "Huge", "Scale:Topology is 'Huge'; use Lean or ScaleOut.")]
    [InlineData("Topology", "7", "Scale:Topology is '7'; use Lean or ScaleOut.")]
    [InlineData("OrderingWorkers", "0", "Scale:OrderingWorkers is '0'; use a number from 1 to 8.")]
    [InlineData("WebFrontends", "9", "Scale:WebFrontends is '9'; use a number from 1 to 8.")]
    [InlineData("OrderingApis", "two", "Scale:OrderingApis is 'two'; use a number from 1 to 8.")]
    public void AnUnusableSettingIsASetupProblemThatSaysWhatToUse(string key, string value, string message)
    {
        var problem = Assert.Throws<AppHostSetupException>(() => ScaleSettings.From(Settings((key, value)), isPublishMode: false));
        Assert.Equal(message, problem.Message);
    }

    private static IConfiguration Settings(params (string Key, string Value)[] scale)
        => new ConfigurationBuilder()
            .AddInMemoryCollection(scale.Select(s => new KeyValuePair<string, string?>($"{ScaleSettings.SectionName}:{s.Key}", s.Value)))
            .Build();
}
