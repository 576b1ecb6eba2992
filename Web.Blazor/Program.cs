using Microsoft.Extensions.Diagnostics.HealthChecks;
using Web.Blazor.Catalog;
using Web.Blazor.Components;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddRedisClient("cache");

builder.Services.AddHttpClient(CatalogApiHealthCheck.HttpClientName, client => client.BaseAddress = new("https+http://catalog-api"));
builder.Services.AddHealthChecks()
    .AddCheck<CatalogApiHealthCheck>("catalog-api", failureStatus: HealthStatus.Degraded, timeout: TimeSpan.FromSeconds(5));

builder.Services.AddRazorComponents();

var app = builder.Build();

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Error", createScopeForErrors: true);
    app.UseHsts();
}

app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseAntiforgery();

app.MapStaticAssets();
app.MapRazorComponents<App>();
app.MapDefaultEndpoints();

app.Run();
