using System.Text.Json.Serialization;
using AspireShop.ServiceDefaults.Security;
using LoadGenerator.Load;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddProblemDetails();
builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<BuyerTokenIssuer>();
builder.AddLoadDriver();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapLoadApi();
app.MapDefaultEndpoints();

app.Run();
