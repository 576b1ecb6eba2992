var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

// Writes go to the primary; reads to the replicas (Npgsql picks a standby from the multi-host connection string).
builder.AddNpgsqlDataSource("catalogdb");
builder.AddKeyedNpgsqlDataSource("catalogdb-replica");
builder.AddRedisClient("cache");
builder.AddRabbitMQClient("messaging");

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
