using AspireShop.Contracts;
using AspireShop.Hosting.Processes;

namespace AspireShop.AppHost.Infrastructure;

/// <summary>
/// Redis as services use it: the resource they wait for (its connection string the default user's, or the one given),
/// and, where the AppHost runs the server, a user of each service's own limited to that service's
/// <see cref="CacheKeyspace"/>.
/// </summary>
public sealed class SharedCache(IResourceBuilder<IResourceWithConnectionString> resource, IResourceBuilder<RedisProcessResource>? local = null)
{
    public IResourceBuilder<IResourceWithConnectionString> Resource { get; } = resource;

    /// <summary>Adds <paramref name="service"/>'s own user where the AppHost runs the server and returns its connection string; null elsewhere (the service is given <see cref="Resource"/>'s).</summary>
    public ReferenceExpression? AddServiceUser(string service, CacheKeyspace keyspace)
        => local is not null && !OperatingSystem.IsWindows() ? local.AddUser(service, keyspace.KeyPatterns, keyspace.ChannelPatterns) : null;
}
