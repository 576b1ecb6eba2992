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

var catalogApi = builder.AddProject<Projects.Catalog_Api>("catalog-api")
    .WithReadinessProbe()
    .WithDependency(infrastructure.CatalogDb)
    .WithDependency(infrastructure.CatalogReadDb)
    .WithDependency(infrastructure.Cache)
    .WithDependency(infrastructure.Messaging);

builder.AddProject<Projects.Ordering_Worker>("ordering-worker")
    .WithReadinessProbe()
    .WithDependency(infrastructure.CatalogDb)
    .WithDependency(infrastructure.Cache)
    .WithDependency(infrastructure.Messaging);

// The site references Catalog.Api but does not wait for it: a shop front must come up, and say the catalog is
// unavailable, even while the API is down or still starting (its /health reports that as Degraded).
builder.AddProject<Projects.Web_Blazor>("web-blazor")
    .WithReadinessProbe()
    .WithExternalHttpEndpoints()
    .WithDependency(infrastructure.Cache)
    .WithReference(catalogApi);

try
{
    AppHostPorts.EnsureFree(builder);
}
catch (InfrastructureSetupException problem)
{
    return SetupProblem(problem);
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
