using Microsoft.Extensions.Configuration;
using AspireShop.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

ShopInfrastructure infrastructure;
try
{
    infrastructure = builder.AddShopInfrastructure();
}
catch (InfrastructureSetupException problem)
{
    return SetupProblem(problem);
}

// Signs the JWTs that authorise catalog administration; a secret parameter, generated in development.
var catalogAdminSigningKey = builder.AddParameter(
    "catalog-admin-signing-key", new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true);

// Signs the buyer tokens the shop front issues and the order API checks.
var buyerTokenSigningKey = builder.AddParameter(
    "buyer-token-signing-key", new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true);

// Stateless (cache in Redis with a backplane, orders in PostgreSQL, relays that share work by row locks), so replicas
// are interchangeable; the AppHost setting Scale:CatalogApis changes how many run.
var catalogApi = builder.AddProject<Projects.Catalog_Api>("catalog-api")
    .WithReplicas(builder.Configuration.GetValue("Scale:CatalogApis", 2))
    .WithReadinessProbe()
    .WithEnvironment("CatalogAdmin__SigningKey", catalogAdminSigningKey)
    .WithEnvironment("Buyers__SigningKey", buyerTokenSigningKey)
    .WithDependency(infrastructure.CatalogDb)
    .WithDependency(infrastructure.CatalogReadDb)
    .WithDependency(infrastructure.Cache)
    .WithDependency(infrastructure.Messaging)
    .WithDependencies(infrastructure.OrderShards);

// Competing consumers: two workers share the order queue (the AppHost setting Scale:OrderingWorkers changes it).
var orderingWorker = builder.AddProject<Projects.Ordering_Worker>("ordering-worker")
    .WithReplicas(builder.Configuration.GetValue("Scale:OrderingWorkers", 2))
    .WithReadinessProbe()
    .WithDependency(infrastructure.CatalogDb)
    .WithDependency(infrastructure.Cache)
    .WithDependency(infrastructure.Messaging)
    .WithDependencies(infrastructure.OrderShards);
if (infrastructure.MailPickupDirectory is { } mailPickup)
{
    orderingWorker.WithEnvironment("Mail__PickupDirectory", mailPickup);
}

// The site references Catalog.Api but does not wait for it: a shop front must come up, and say the catalog is
// unavailable, even while the API is down or still starting (its /health reports that as Degraded).
// Stateless (buyer cookie, cart and data-protection keys in Redis), so replicas are interchangeable; the AppHost
// setting Scale:WebFrontends changes how many run.
var webFrontend = builder.AddProject<Projects.Web_Blazor>("web-blazor")
    .WithReplicas(builder.Configuration.GetValue("Scale:WebFrontends", 2))
    .WithReadinessProbe()
    .WithExternalHttpEndpoints()
    .WithEnvironment("Buyers__SigningKey", buyerTokenSigningKey)
    .WithDependency(infrastructure.Cache)
    .WithReference(catalogApi);
// The site balances its requests over the API replicas itself (least requests by default; the setting
// Services:web-blazor:CatalogApi:LoadBalancing=RoundRobin switches), where the AppHost can list them. Otherwise the
// orchestrator's proxy (or the platform's ingress) picks a replica per connection.
if (infrastructure.ReplicaEndpointsFile is { } replicaEndpointsFile)
{
    webFrontend.WithEnvironment("CatalogApi__ReplicaEndpointsFile", replicaEndpointsFile(catalogApi.Resource.Name));
}

try
{
    AppHostPorts.EnsureFree(builder);
}
catch (InfrastructureSetupException problem)
{
    return SetupProblem(problem);
}

// Any AppHost setting under Services:<resource> goes to that service as configuration, e.g.
// --Services:catalog-api:Catalog:Cache:Enabled=false (how benchmarks switch the cache off).
foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
{
    var settings = builder.Configuration.GetSection($"Services:{project.Name}").AsEnumerable(makePathsRelative: true)
        .Where(setting => setting.Value is not null)
        .ToList();
    var resource = builder.CreateResourceBuilder(project);
    foreach (var (key, value) in settings)
    {
        resource.WithEnvironment(key.Replace(":", "__"), value);
    }
}

builder.Build().Run();
return 0;

// A missing binary, a busy port or a data folder in use is a set-up problem, not a crash: one line that says what
// is wrong and how to fix it, and a distinct exit code for scripts.
static int SetupProblem(InfrastructureSetupException problem)
{
    Console.Error.WriteLine($"AspireShop: {problem.Message}");
    return 2;
}
