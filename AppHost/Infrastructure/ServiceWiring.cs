using AspireShop.Contracts;
using AspireShop.Hosting.Processes;
using Microsoft.Extensions.Configuration;

namespace AspireShop.AppHost.Infrastructure;

/// <summary>How the AppHost wires the shop's own services, beyond what Aspire's builders say.</summary>
public static class ServiceWiring
{
    /// <summary>
    /// The service is healthy when its own <c>/health</c> says so (every dependency it connects to answers), not merely
    /// when its process runs, so whatever waits for it waits for a service that can serve.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithReadinessProbe(this IResourceBuilder<ProjectResource> service)
        => service.WithHttpHealthCheck("/health").WithStartupHealthPolling();

    /// <summary>Hands the service the connection string and holds its start until that dependency is healthy.</summary>
    public static IResourceBuilder<T> WithDependency<T>(
        this IResourceBuilder<T> service, IResourceBuilder<IResourceWithConnectionString> dependency)
        where T : IResourceWithEnvironment, IResourceWithWaitSupport
        => service.WithReference(dependency).WaitFor(dependency);

    /// <summary>
    /// Hands the service the database's connection string, as <paramref name="role"/> where the AppHost runs the server
    /// (<see cref="ServiceDatabaseRoles"/>), under the database's name, and holds its start until the database is healthy.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDatabase(
        this IResourceBuilder<ProjectResource> service, PostgresDatabase database, DatabaseRole? role)
        => service.WithDependency(database.Resource, database.ConnectionStringAs(role));

    /// <summary>
    /// Hands the service the broker's connection string, as its own user where the AppHost runs the node
    /// (<see cref="MessageBroker"/>), and holds its start until the broker is healthy.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithBroker(this IResourceBuilder<ProjectResource> service, MessageBroker broker)
        => service.WithDependency(broker.Resource, broker.AddServiceUser(service.Resource.Name));

    /// <summary>
    /// Hands the service Redis's connection string, as its own user limited to <paramref name="keyspace"/> where the
    /// AppHost runs the server (<see cref="SharedCache"/>), and holds its start until Redis is healthy.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithCache(this IResourceBuilder<ProjectResource> service, SharedCache cache, CacheKeyspace keyspace)
        => service.WithDependency(cache.Resource, cache.AddServiceUser(service.Resource.Name, keyspace));

    /// <summary>
    /// The dependency's connection string under its name: <paramref name="asServiceCredentials"/> (the service's own
    /// role or user) where there is one, else the dependency's own.
    /// </summary>
    private static IResourceBuilder<ProjectResource> WithDependency(this IResourceBuilder<ProjectResource> service,
        IResourceBuilder<IResourceWithConnectionString> dependency, ReferenceExpression? asServiceCredentials)
        => asServiceCredentials is not null
            ? service.WithEnvironment($"ConnectionStrings__{dependency.Resource.Name}", asServiceCredentials).WaitFor(dependency)
            : service.WithDependency(dependency);

    /// <summary>Every database of the list, each a <see cref="WithDatabase"/>.</summary>
    public static IResourceBuilder<ProjectResource> WithDatabases(
        this IResourceBuilder<ProjectResource> service, IEnumerable<PostgresDatabase> databases, DatabaseRole? role)
    {
        foreach (var database in databases)
        {
            service.WithDatabase(database, role);
        }

        return service;
    }

    /// <summary>
    /// The site limits each client address (Web.Blazor's RateLimiting settings). Deployed, the address is the one the
    /// platform's ingress forwards; locally every shopper comes through the orchestrator's proxy as one address, so the
    /// limits are raised to those of the whole local shop.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithClientRateLimits(this IResourceBuilder<ProjectResource> site)
        => site.ApplicationBuilder.ExecutionContext.IsPublishMode
            ? site.WithEnvironment("RateLimiting__TrustForwardedHeaders", "true")
            : site.WithEnvironment("RateLimiting__PerClientPerSecond", "2000").WithEnvironment("RateLimiting__NewBuyersPerSecond", "200");

    /// <summary>
    /// Aspire gives every project <c>OTEL_TRACES_SAMPLER=always_on</c> when it runs locally, so the dashboard would
    /// get a span for every SQL statement of every request under load: on 2 cores more CPU than the requests
    /// themselves. The services choose their own sampler instead (ServiceDefaults: every trace a developer makes, up
    /// to 5 started per second and service under load); a setting under <c>Services:&lt;resource&gt;</c>, applied
    /// after this, can still name another.
    /// </summary>
    public static void LetServicesSampleTraces(this IDistributedApplicationBuilder builder)
    {
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            builder.CreateResourceBuilder(project).WithEnvironment(context => context.EnvironmentVariables.Remove("OTEL_TRACES_SAMPLER"));
        }
    }

    /// <summary>
    /// Any AppHost setting under <c>Services:&lt;resource&gt;</c> goes to that service as configuration, e.g.
    /// <c>--Services:catalog-api:Catalog:Cache:Enabled=false</c> (how benchmarks switch the cache off).
    /// </summary>
    public static void ForwardServiceSettings(this IDistributedApplicationBuilder builder)
    {
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            var settings = builder.Configuration.GetSection($"Services:{project.Name}").AsEnumerable(makePathsRelative: true)
                .Where(setting => setting.Value is not null);
            var resource = builder.CreateResourceBuilder(project);
            foreach (var (key, value) in settings)
            {
                resource.WithEnvironment(key.Replace(":", "__"), value);
            }
        }
    }
}
