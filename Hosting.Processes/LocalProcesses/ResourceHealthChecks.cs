using Microsoft.Extensions.DependencyInjection;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// Health checks the AppHost runs against its own backing resources, using the same connection strings the services
/// get. The connection string is read when a check runs: endpoints are allocated only once the application starts.
/// The keys differ from the container integrations' (<c>name_check</c>): a process takes the place of a container
/// whose check stays registered.
/// </summary>
public static class ResourceHealthChecks
{
    public static string AddNpgSqlCheck(this IDistributedApplicationBuilder builder, IResourceWithConnectionString resource)
    {
        var key = $"{resource.Name}_process_check";
        builder.Services.AddHealthChecks().AddNpgSql(_ => ConnectionStringOf(resource), name: key);
        return key;
    }

    public static string AddRedisCheck(this IDistributedApplicationBuilder builder, IResourceWithConnectionString resource)
    {
        var key = $"{resource.Name}_process_check";
        builder.Services.AddHealthChecks().AddRedis(_ => ConnectionStringOf(resource), name: key);
        return key;
    }

    private static string ConnectionStringOf(IResourceWithConnectionString resource)
        => resource.ConnectionStringExpression.GetValueAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult()
            ?? throw new InvalidOperationException($"{resource.Name} has no connection string yet.");
}
