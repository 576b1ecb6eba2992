using Microsoft.Extensions.Caching.StackExchangeRedis;
using Ordering.Worker.Mail;
using Ordering.Worker.Orders;
using StackExchange.Redis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

builder.AddNpgsqlDataSource("catalogdb");
builder.AddRedisClient("cache");
builder.AddRabbitMQClient("messaging");

// The same HybridCache (on the same Redis) as Catalog.Api, to invalidate the catalog's cached stock by tag.
builder.Services.AddStackExchangeRedisCache(_ => { });
builder.Services.AddOptions<RedisCacheOptions>().Configure<IConnectionMultiplexer>((options, redis) =>
    options.ConnectionMultiplexerFactory = () => Task.FromResult(redis));
builder.Services.AddHybridCache();

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<OrderProcessor>();
builder.Services.AddSingleton<OrderingWorkerMetrics>();
builder.Services.AddHostedService<QueueDepthSampler>();
builder.Services.AddHostedService<OrderSubmittedConsumer>();
builder.AddOrderMail();

var app = builder.Build();

// The worker serves no API; HTTP is here for the health probes orchestrators use.
app.MapDefaultEndpoints();

app.Run();
