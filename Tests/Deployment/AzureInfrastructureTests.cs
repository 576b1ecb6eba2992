using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AspireShop.Ordering.Messaging;
using YamlDotNet.RepresentationModel;

namespace Tests.Deployment;

/// <summary>
/// The Azure infrastructure azd provisions and deploys (infra/*.bicep, AppHost/infra/*.tmpl.yaml), checked offline:
/// the Bicep CLI builds it and type-checks every container app against the Container Apps resource type, each app has
/// the environment the AppHost's manifest gives it, and each scales on what it serves.
/// </summary>
public sealed partial class AzureInfrastructureTests
{
    private const string EnvironmentDomain = "{{ .Env.AZURE_CONTAINER_APPS_ENVIRONMENT_DEFAULT_DOMAIN }}";
    private const string TargetPort = "{{ targetPortOrDefault 8080 }}";

    public static TheoryData<string> Services => new(["catalog-api", "ordering-api", "ordering-worker", "web-blazor"]);

    [Fact]
    public async Task TheProvisionedInfrastructureBuildsWithoutAWarning()
    {
        var (exitCode, diagnostics) = await BicepAsync("build", Path.Combine(DeploymentManifest.RepositoryRoot, "infra", "main.bicep"), "--stdout");

        Assert.True(exitCode == 0 && diagnostics.Length == 0, diagnostics);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task EachContainerAppIsAContainerAppsResourceTheBicepTypesAccept(string service)
    {
        var template = Template(service);
        var folder = Directory.CreateTempSubdirectory("aspireshop-bicep-");
        try
        {
            var file = Path.Combine(folder.FullName, $"{service}.bicep");
            await File.WriteAllTextAsync(file, AsBicepResource(service, template));

            var (exitCode, diagnostics) = await BicepAsync("build", file, "--stdout");

            Assert.True(exitCode == 0 && diagnostics.Length == 0, $"{diagnostics}\n{await File.ReadAllTextAsync(file)}");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task EachContainerAppHasTheEnvironmentTheManifestGivesIt(string service)
    {
        var manifest = DeploymentManifest.Resources(await DeploymentManifest.DefaultAsync());
        var template = Template(service);
        var secrets = List(template, "properties", "configuration", "secrets")
            .ToDictionary(secret => Scalar(secret, "name"), secret => Scalar(secret, "value"));
        var environment = List(Assert.Single(List(template, "properties", "template", "containers")), "env");
        var expected = manifest[service]!["env"]!.AsObject();

        Assert.Equal(expected.Select(e => e.Key).Append("AZURE_CLIENT_ID").Order(), environment.Select(e => Scalar(e, "name")).Order());
        foreach (var (name, value) in expected)
        {
            var variable = environment.Single(e => Scalar(e, "name") == name);
            var reference = ManifestReference().Match(value!.GetValue<string>());
            if (reference.Success && manifest[reference.Groups["resource"].Value]?["type"]?.GetValue<string>() == "parameter.v0")
            {
                // A secret parameter (a connection string, a key) reaches the app as a Container Apps secret.
                var parameter = reference.Groups["resource"].Value;
                Assert.True(manifest[parameter]!["inputs"]!["value"]!["secret"]!.GetValue<bool>());
                var secret = Scalar(variable, "secretRef");
                Assert.Equal($"{{{{ securedParameter \"{parameter}\" }}}}", secrets[secret]);
            }
            else
            {
                Assert.Equal(Deployed(value.GetValue<string>()), Scalar(variable, "value"));
            }
        }
    }

    [Theory]
    [InlineData("web-blazor", 2, 10, 100)]
    [InlineData("catalog-api", 2, 10, 100)]
    [InlineData("ordering-api", 2, 6, 50)]
    public void TheHttpServicesScaleOnRequestsInFlightFromTwoReplicas(string service, int min, int max, int concurrentRequests)
    {
        var scale = Node(Template(service), "properties", "template", "scale");

        Assert.Equal(min, int.Parse(Scalar(scale, "minReplicas")));
        Assert.Equal(max, int.Parse(Scalar(scale, "maxReplicas")));
        var rule = Assert.Single(List(scale, "rules"));
        Assert.Equal(concurrentRequests, int.Parse(Scalar(Node(rule, "http", "metadata"), "concurrentRequests")));
    }

    [Fact]
    public void TheWorkersFollowTheOrderQueuesBacklogWithTheBrokersOwnCredentials()
    {
        var template = Template("ordering-worker");
        var scale = Node(template, "properties", "template", "scale");

        Assert.Equal(1, int.Parse(Scalar(scale, "minReplicas")));
        Assert.Equal(8, int.Parse(Scalar(scale, "maxReplicas")));
        var rule = Node(Assert.Single(List(scale, "rules")), "custom");
        Assert.Equal("rabbitmq", Scalar(rule, "type"));
        var metadata = Node(rule, "metadata");
        Assert.Equal(OrderTopology.OrderSubmittedQueue, Scalar(metadata, "queueName"));
        Assert.Equal("QueueLength", Scalar(metadata, "mode"));
        Assert.Equal(500, int.Parse(Scalar(metadata, "value")));

        // KEDA reads the queue with the connection string the worker consumes it with.
        var auth = Assert.Single(List(rule, "auth"));
        Assert.Equal("host", Scalar(auth, "triggerParameter"));
        var secret = List(template, "properties", "configuration", "secrets").Single(s => Scalar(s, "name") == Scalar(auth, "secretRef"));
        Assert.Equal("{{ securedParameter \"messaging\" }}", Scalar(secret, "value"));
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void OnlyTheShopFrontIsPublicAndOnlyOverHttps(string service)
    {
        var ingress = Node(Template(service), "properties", "configuration", "ingress");

        Assert.Equal(service == "web-blazor", bool.Parse(Scalar(ingress, "external")));
        Assert.Equal(service != "web-blazor", bool.Parse(Scalar(ingress, "allowInsecure")));
    }

    /// <summary>What azd writes in a template for a manifest value that is not a parameter.</summary>
    private static string Deployed(string manifestValue)
        => ManifestReference().Match(manifestValue) switch
        {
            { Success: true } reference when reference.Groups["path"].Value == "bindings.http.targetPort" => TargetPort,
            { Success: true } reference when reference.Groups["path"].Value is "bindings.http.url" or "bindings.https.url" =>
                $"{reference.Groups["path"].Value.Split('.')[1]}://{reference.Groups["resource"].Value}.internal.{EnvironmentDomain}",
            { Success: true } reference => throw new InvalidOperationException($"no rule for the manifest reference {reference.Value}"),
            _ => manifestValue,
        };

    [GeneratedRegex(@"^\{(?<resource>[a-z0-9-]+)\.(?<path>[A-Za-z0-9.]+)\}$")]
    private static partial Regex ManifestReference();

    private static YamlMappingNode Template(string service)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(DeploymentManifest.RepositoryRoot, "AppHost", "infra", $"{service}.tmpl.yaml"))));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static YamlMappingNode Node(YamlMappingNode node, params string[] path)
        => path.Aggregate(node, (current, key) => (YamlMappingNode)current[new YamlScalarNode(key)]);

    private static List<YamlMappingNode> List(YamlMappingNode node, params string[] path)
        => [.. ((YamlSequenceNode)Node(node, path[..^1])[new YamlScalarNode(path[^1])]).Cast<YamlMappingNode>()];

    private static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[new YamlScalarNode(key)]).Value!;

    /// <summary>
    /// The template as the Bicep resource it deploys (azd's placeholders kept as strings, its secure parameters as
    /// secure values, the ingress port as the number azd puts there), so the Bicep CLI checks every property name and
    /// type against Microsoft.App/containerApps.
    /// </summary>
    private static string AsBicepResource(string service, YamlMappingNode template)
    {
        var body = new StringBuilder();
        foreach (var parameter in template.AllNodes.OfType<YamlScalarNode>()
                     .Select(scalar => SecuredParameter().Match(scalar.Value ?? "")).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct())
        {
            body.Append($"@secure()\nparam {SecureParameterName(parameter)} string\n\n");
        }

        body.Append($"resource app 'Microsoft.App/containerApps@{Scalar(template, "api-version")}' = {{\n  name: '{service}'\n");
        foreach (var (key, value) in template.Children.Where(c => ((YamlScalarNode)c.Key).Value != "api-version"))
        {
            body.Append($"  {BicepKey(((YamlScalarNode)key).Value!)}: {AsBicep(value, 1)}\n");
        }

        return body.Append("}\n").ToString();
    }

    private static string AsBicep(YamlNode node, int depth)
    {
        var indent = new string(' ', 2 * (depth + 1));
        var closing = new string(' ', 2 * depth);
        return node switch
        {
            YamlMappingNode { Children.Count: 0 } => "{}",
            YamlMappingNode map => "{\n" + string.Concat(map.Children.Select(c => ((YamlScalarNode)c.Key).Value! switch
            {
                "targetPort" when c.Value is YamlScalarNode { Value: TargetPort } => $"{indent}targetPort: 8080\n",
                var key => $"{indent}{BicepKey(key)}: {AsBicep(c.Value, depth + 1)}\n",
            })) + closing + "}",
            YamlSequenceNode list => "[\n" + string.Concat(list.Children.Select(item => $"{indent}{AsBicep(item, depth + 1)}\n")) + closing + "]",
            YamlScalarNode scalar when SecuredParameter().Match(scalar.Value!) is { Success: true } secured && secured.Value == scalar.Value => SecureParameterName(secured.Groups[1].Value),
            YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: "true" or "false" } scalar => scalar.Value!,
            YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } scalar when long.TryParse(scalar.Value, out _) => scalar.Value!,
            YamlScalarNode scalar => BicepString(scalar.Value!),
            _ => throw new InvalidOperationException($"unexpected YAML node {node}"),
        };
    }

    private static string BicepKey(string key) => BicepIdentifier().IsMatch(key) ? key : BicepString(key);

    private static string BicepString(string value)
        => "'" + value.Replace(@"\", @"\\").Replace("'", @"\'").Replace("${", @"\${") + "'";

    private static string SecureParameterName(string parameter) => parameter.Replace('-', '_');

    [GeneratedRegex("""\{\{ securedParameter "([a-z0-9-]+)" \}\}""")]
    private static partial Regex SecuredParameter();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex BicepIdentifier();

    private static async Task<(int ExitCode, string Diagnostics)> BicepAsync(params string[] arguments)
    {
        var bicep = typeof(AzureInfrastructureTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "BicepPath").Value!.Replace('\\', '/');
        var start = new ProcessStartInfo(bicep) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var diagnostics = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        await output;
        return (process.ExitCode, (await diagnostics).Trim());
    }
}
