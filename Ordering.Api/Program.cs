using Ordering.Api.Operations;
using Ordering.Api.Orders;
using Ordering.Api.Sharding;

if (ShardsCommand.IsInvocation(args))
{
    return await ShardsCommand.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiDefaults();
builder.Services.AddValidation();
builder.AddOrderIntake();

var app = builder.Build();

app.UseApiDefaults();
app.MapOrdersApi();
app.MapOperationsApi();
app.MapDefaultEndpoints();

app.Run();
return 0;
