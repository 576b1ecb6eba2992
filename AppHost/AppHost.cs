using AspireShop.AppHost;
using AspireShop.AppHost.Drills;
using AspireShop.AppHost.Infrastructure;
using AspireShop.Contracts;
using AspireShop.Hosting.Processes;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

ScaleSettings scale;
ShopInfrastructure infrastructure;
try
{
    scale = ScaleSettings.From(builder.Configuration, builder.ExecutionContext.IsPublishMode);
    infrastructure = builder.AddShopInfrastructure(scale);
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

// Stateless (cache in Redis with a backplane), so replicas are interchangeable; Scale:Topology=ScaleOut runs two,
// Scale:CatalogApis any number. The catalog's schema is its own: it migrates and seeds it at start.
var catalogApi = builder.AddShopService<Projects.Catalog_Api>(ResourceNames.CatalogApi)
    .WithReplicas(scale.CatalogApis)
    .WithReadinessProbe()
    .WithEnvironment("CatalogAdmin__SigningKey", catalogAdminSigningKey)
    .WithDependency(infrastructure.CatalogDb)
    .WithDependency(infrastructure.CatalogReadDb)
    .WithDependency(infrastructure.Cache);

// Order intake, and the owner of the ordering schema: it migrates the order directory (in the catalog database) and
// every order shard at start and is healthy only after that. Stateless (orders in PostgreSQL, relays that share
// work by row locks), so replicas are interchangeable (two in the ScaleOut topology; Scale:OrderingApis).
var orderingApi = builder.AddShopService<Projects.Ordering_Api>(ResourceNames.OrderingApi)
    .WithReplicas(scale.OrderingApis)
    .WithReadinessProbe()
    .WithEnvironment("Buyers__SigningKey", buyerTokenSigningKey)
    .WithDependency(infrastructure.CatalogDb)
    .WithDependency(infrastructure.Messaging)
    .WithDependencies(infrastructure.OrderShards);

// Competing consumers: replicas share the order queue (two in the ScaleOut topology; Scale:OrderingWorkers). The
// worker waits for Ordering.Api, so it starts on a migrated schema.
var orderingWorker = builder.AddShopService<Projects.Ordering_Worker>(ResourceNames.OrderingWorker)
    .WithReplicas(scale.OrderingWorkers)
    .WithReadinessProbe()
    .WithDependency(infrastructure.CatalogDb)
    .WithDependency(infrastructure.Cache)
    .WithDependency(infrastructure.Messaging)
    .WithDependencies(infrastructure.OrderShards)
    .WaitFor(orderingApi);
if (infrastructure.MailPickupDirectory is { } mailPickup)
{
    orderingWorker.WithEnvironment("Mail__PickupDirectory", mailPickup);
}

// The site references Catalog.Api and Ordering.Api but waits for neither: a shop front must come up, and say the
// catalog is unavailable, even while an API is down or still starting (its /health reports that as Degraded).
// Stateless (buyer cookie, cart and data-protection keys in Redis), so replicas are interchangeable (two in the
// ScaleOut topology; Scale:WebFrontends).
var webFrontend = builder.AddShopService<Projects.Web_Blazor>(ResourceNames.WebFrontend)
    .WithReplicas(scale.WebFrontends)
    .WithReadinessProbe()
    .WithExternalHttpEndpoints()
    .WithEnvironment("Buyers__SigningKey", buyerTokenSigningKey)
    .WithDependency(infrastructure.Cache)
    .WithReference(catalogApi)
    .WithReference(orderingApi);
// The site limits each client address (Web.Blazor's RateLimiting settings). Deployed, the address is the one the
// platform's ingress forwards; locally every shopper comes through the orchestrator's proxy as one address, so the
// limits are those of the whole local shop.
if (builder.ExecutionContext.IsPublishMode)
{
    webFrontend.WithEnvironment("RateLimiting__TrustForwardedHeaders", "true");
}
else
{
    webFrontend.WithEnvironment("RateLimiting__PerClientPerSecond", "2000").WithEnvironment("RateLimiting__NewBuyersPerSecond", "200");
}

// The site balances its requests over the API replicas itself (least requests by default; the setting
// Services:web-blazor:CatalogApi:LoadBalancing=RoundRobin or ClientAddressHash switches), where the AppHost can list them. Otherwise the
// orchestrator's proxy (or the platform's ingress) picks a replica per connection.
if (infrastructure.ReplicaEndpointsFile is { } replicaEndpointsFile)
{
    webFrontend.WithEnvironment("CatalogApi__ReplicaEndpointsFile", replicaEndpointsFile(catalogApi.Resource.Name));
}

// Load and failure drills from the dashboard: a load generator started on demand, and commands that kill replicas,
// move an order bucket and check what became of the orders. Run mode only: a deployed graph has no dashboard.
if (builder.ExecutionContext.IsRunMode)
{
    builder.AddLoadAndDrills(new ShopServices(catalogApi, orderingApi, orderingWorker, webFrontend), scale, buyerTokenSigningKey, infrastructure.LoadRecordDirectory);
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
