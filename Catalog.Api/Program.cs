using Catalog.Api.Catalog;
using Catalog.Api.Operations;
using Catalog.Api.Security;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiDefaults();
builder.Services.AddValidation();
builder.AddCatalog();
builder.AddCatalogAdminAuthentication();
builder.Services.AddSingleton<CatalogApiMetrics>();
builder.Services.AddHostedService<ReplicaLagSampler>();
builder.Services.ConfigureHttpJsonOptions(options =>
    options.SerializerOptions.TypeInfoResolverChain.Insert(0, CatalogJsonContext.Default));

var app = builder.Build();

app.UseApiDefaults();
app.MapCatalogApi();
app.MapDefaultEndpoints();

app.Run();
