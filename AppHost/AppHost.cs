using AspireShop.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

ShopInfrastructure infrastructure;
try
{
    infrastructure = builder.AddShopInfrastructure();
}
catch (InfrastructureSetupException problem)
{
    // A missing binary, a busy port or a data folder in use is a set-up problem, not a crash: one line that says
    // what is wrong and how to fix it.
    Console.Error.WriteLine($"AspireShop: {problem.Message}");
    return 2;
}

var catalogApi = builder.AddProject<Projects.Catalog_Api>("catalog-api")
    .WithDependency(infrastructure.CatalogDb)
    .WithDependency(infrastructure.CatalogReadDb)
    .WithDependency(infrastructure.Cache)
    .WithDependency(infrastructure.Messaging);

builder.AddProject<Projects.Ordering_Worker>("ordering-worker")
    .WithDependency(infrastructure.CatalogDb)
    .WithDependency(infrastructure.Cache)
    .WithDependency(infrastructure.Messaging);

builder.AddProject<Projects.Web_Blazor>("web-blazor")
    .WithExternalHttpEndpoints()
    .WithDependency(infrastructure.Cache)
    .WithReference(catalogApi)
    .WaitFor(catalogApi);

builder.Build().Run();
return 0;
