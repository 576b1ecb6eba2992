using AspireShop.ServiceDefaults.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;
using Web.Blazor.Buyers;
using Web.Blazor.Cart;
using Web.Blazor.Catalog;
using Web.Blazor.Components;
using Web.Blazor.Edge;
using Web.Blazor.KeyRing;
using Web.Blazor.Ordering;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddSiteRateLimiting();
builder.AddRedisClient("cache");

// Cookies and antiforgery tokens must be readable by every replica: the data-protection keys live in Redis,
// encrypted under the site's own secret, since the catalog and the worker use the same Redis (where the AppHost runs
// it, as users that cannot read the site's keys; a managed Redis may give them all one user).
builder.Services.AddSingleton(new KeyRingEncryption(builder.Configuration[KeyRingEncryption.Setting]));
builder.Services.AddDataProtection().SetApplicationName("aspireshop-web");
builder.Services.AddOptions<KeyManagementOptions>().Configure<IConnectionMultiplexer, KeyRingEncryption>((options, redis, encryption) =>
{
    options.XmlRepository = new RedisXmlRepository(() => redis.GetDatabase(), KeyRingEncryption.RedisKey);
    options.XmlEncryptor = new KeyRingEncryption.Encryptor(encryption);
});

builder.AddBuyerIdentity();
builder.Services.AddSingleton<CartStore>();

builder.AddCatalogApiClients();
// Orders go to Ordering.Api, found by service discovery (ServiceDefaults adds the standard resilience handler).
builder.Services.AddHttpClient<OrdersClient>(client => client.BaseAddress = new(OrdersClient.ServiceUri));
builder.Services.AddHealthChecks()
    .AddCheck<CatalogApiHealthCheck>("catalog-api", failureStatus: HealthStatus.Degraded, timeout: TimeSpan.FromSeconds(5));

builder.Services.AddRazorComponents();

var app = builder.Build();

// Fail at start, with the reason, rather than at the first checkout.
app.Services.GetRequiredService<BuyerTokenIssuer>();

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/Error", createScopeForErrors: true);
    app.UseHsts();
}

app.UseSiteRateLimiting();
app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseAuthentication();
app.UseBuyerIdentity();
app.UseAuthorization();
app.UseAntiforgery();

app.MapStaticAssets();
app.MapProductPictures();
app.MapCartEndpoints();
app.MapRazorComponents<App>();
app.MapDefaultEndpoints();

app.Run();
