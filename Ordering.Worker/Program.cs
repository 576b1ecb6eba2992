var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

builder.AddNpgsqlDataSource("catalogdb");
builder.AddRedisClient("cache");
builder.AddRabbitMQClient("messaging");

var app = builder.Build();

// The worker serves no API; HTTP is here for the health probes orchestrators use.
app.MapDefaultEndpoints();

app.Run();
