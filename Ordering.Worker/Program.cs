using AspireShop.Catalog.Stock;
using AspireShop.Contracts;
using AspireShop.Ordering.Sharding;
using Ordering.Worker.Mail;
using Ordering.Worker.Orders;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

builder.AddOrderShards();
builder.AddRedisClient(ResourceNames.Cache);
builder.AddRabbitMQClient(ResourceNames.Messaging);

// The same cache (on the same Redis, with the same backplane) as Catalog.Api, to invalidate the catalog's cached
// stock by tag in every API replica.
builder.AddSharedHybridCache();

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<CatalogStock>();
builder.Services.AddSingleton<OrderProcessor>();
builder.Services.AddSingleton<OrderingWorkerMetrics>();
builder.Services.AddHostedService<QueueDepthSampler>();
builder.Services.AddSingleton<CachedStockInvalidator>();
builder.Services.AddHostedService(services => services.GetRequiredService<CachedStockInvalidator>());
builder.Services.AddHostedService<OrderSubmittedConsumer>();
builder.AddOrderMail();

var app = builder.Build();

// The worker serves no API; HTTP is here for the health probes orchestrators use.
app.MapDefaultEndpoints();

app.Run();
