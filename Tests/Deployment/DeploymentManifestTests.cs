using System.Text.Json.Nodes;

namespace Tests.Deployment;

/// <summary>What `azd up` would deploy, checked from the manifest the AppHost generates in publish mode.</summary>
public sealed class DeploymentManifestTests
{
    private static readonly string[] Services = ["catalog-api", "ordering-api", "ordering-worker", "web-blazor"];

    // annotated.string entries are the URI-encoded passwords Aspire's Redis and RabbitMQ integrations derive from
    // their password parameters: values computed from parameters, not resources to run.
    private static readonly string[] DeployableTypes = ["project.v0", "container.v0", "parameter.v0", "value.v0", "annotated.string"];

    [Fact]
    public async Task GeneratedManifestIsTheCommittedOne()
    {
        var generated = await DeploymentManifest.DefaultAsync();
        var committed = await File.ReadAllTextAsync(DeploymentManifest.CommittedPath);

        Assert.True(Normalize(committed) == Normalize(generated),
            "The deployment changed: review it, then regenerate deploy/aspire-manifest.json with " +
            "'dotnet run --project AppHost -- --publisher manifest --output-path ../deploy/aspire-manifest.json'.");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OnlyResourceTypesAzdDeploys(bool demoContainers)
    {
        var resources = DeploymentManifest.Resources(await ManifestAsync(demoContainers));
        foreach (var (name, resource) in resources)
        {
            Assert.Contains(resource!["type"]!.GetValue<string>(), DeployableTypes);
            Assert.False(resource["type"]!.GetValue<string>() == "executable.v0", $"{name} is a local process");
        }

        Assert.Subset(resources.Select(r => r.Key).ToHashSet(), Services.ToHashSet());
    }

    [Fact]
    public async Task ServicesGetTheirConnectionStringsAndServiceDiscovery()
    {
        var resources = DeploymentManifest.Resources(await DeploymentManifest.DefaultAsync());

        AssertEnvironment(resources, "catalog-api",
            "ConnectionStrings__catalogdb", "ConnectionStrings__catalogdb-replica", "ConnectionStrings__cache", "CatalogAdmin__SigningKey");
        AssertEnvironment(resources, "ordering-api",
            "ConnectionStrings__catalogdb", "ConnectionStrings__messaging", "ConnectionStrings__ordersdb-shard1", "ConnectionStrings__ordersdb-shard2",
            "Buyers__SigningKey");
        AssertEnvironment(resources, "ordering-worker",
            "ConnectionStrings__catalogdb", "ConnectionStrings__cache", "ConnectionStrings__messaging",
            "ConnectionStrings__ordersdb-shard1", "ConnectionStrings__ordersdb-shard2");
        AssertEnvironment(resources, "web-blazor", "ConnectionStrings__cache", "services__catalog-api__http__0", "services__ordering-api__http__0");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EverySecretIsASecretParameter(bool demoContainers)
    {
        var text = await ManifestAsync(demoContainers);
        var resources = DeploymentManifest.Resources(text);
        var parameters = resources.Where(r => r.Value!["type"]!.GetValue<string>() == "parameter.v0").ToList();

        Assert.NotEmpty(parameters);
        foreach (var (name, parameter) in parameters)
        {
            Assert.True(parameter!["inputs"]?["value"]?["secret"]?.GetValue<bool>() == true, $"parameter {name} is not secret");
        }

        // Nothing secret is written into the manifest as a literal: every password is a reference to a parameter.
        Assert.DoesNotMatch(@"Password=[^{]", text);
    }

    [Fact]
    public async Task TheDefaultDeploymentTakesEveryServerAsASecretConnectionStringAndRunsNoneOfItsOwn()
    {
        // Servers deployed as containers beside the services lose every order when they restart (they have no
        // volumes); by default the shop keeps its data in the managed servers it is given.
        var resources = DeploymentManifest.Resources(await DeploymentManifest.DefaultAsync());

        foreach (var name in new[] { "catalogdb", "catalogdb-replica", "cache", "messaging", "ordersdb-shard1", "ordersdb-shard2" })
        {
            Assert.Equal("parameter.v0", resources[name]!["type"]!.GetValue<string>());
            Assert.NotNull(resources[name]!["connectionString"]);
        }

        Assert.DoesNotContain(resources, r => r.Value!["type"]!.GetValue<string>() == "container.v0");
    }

    [Fact]
    public async Task OnlyTheShopFrontIsReachableFromOutside()
    {
        var resources = DeploymentManifest.Resources(await DeploymentManifest.DefaultAsync());

        var external = resources
            .Where(r => r.Value!["bindings"] is JsonObject bindings
                && bindings.Any(b => b.Value!["external"]?.GetValue<bool>() == true))
            .Select(r => r.Key);
        Assert.Equal(["web-blazor"], external);
    }

    [Fact]
    public async Task TheDemoContainersHaveNoVolumesAndNoBrokerConsole()
    {
        // Container Apps cannot run PostgreSQL on its file-share volumes; the in-environment containers, deployed only
        // when Infrastructure:Mode=containers names them, are for demos and keep their data only while they run.
        var resources = DeploymentManifest.Resources(await ManifestAsync(demoContainers: true));
        var containers = resources.Where(r => r.Value!["type"]!.GetValue<string>() == "container.v0").ToList();
        Assert.Contains(containers, c => c.Key == "messaging");
        foreach (var (name, resource) in containers)
        {
            Assert.True(resource!["volumes"] is null or JsonArray { Count: 0 }, $"{name} has a volume");
            Assert.True(resource["bindMounts"] is null or JsonArray { Count: 0 } || name == "postgres", $"{name} has a bind mount");
        }

        // The primary accepts replication only as the standbys' role, which the standbys use.
        var primary = resources["postgres"]!["args"]!.AsArray().Select(arg => arg!.GetValue<string>()).Last();
        Assert.Contains("host replication replicator all scram-sha-256", primary);
        Assert.DoesNotContain("host replication all", primary);
        Assert.Equal("replicator", resources["postgres-replica1"]!["env"]!["PGUSER"]!.GetValue<string>());
        Assert.Equal("{postgres-replication-password.value}", resources["postgres-replica1"]!["env"]!["PGPASSWORD"]!.GetValue<string>());

        // RabbitMQ's management UI is an administrator's console: beside the local dashboard, never deployed.
        var broker = resources["messaging"]!;
        Assert.DoesNotContain("management", broker["image"]!.GetValue<string>());
        Assert.False(broker["bindings"]?.AsObject().ContainsKey("management") == true, "the broker's management port is deployed");
    }

    private static Task<string> ManifestAsync(bool demoContainers)
        => demoContainers
            ? DeploymentManifest.GenerateAsync($"aspire-manifest.{Guid.NewGuid():N}.json", "--Infrastructure:Mode=containers")
            : DeploymentManifest.DefaultAsync();

    private static void AssertEnvironment(JsonObject resources, string service, params string[] variables)
    {
        var environment = resources[service]!["env"]!.AsObject();
        foreach (var variable in variables)
        {
            Assert.True(environment.ContainsKey(variable), $"{service} lacks {variable}");
        }
    }

    private static string Normalize(string manifest) => manifest.ReplaceLineEndings("\n").Trim();
}
