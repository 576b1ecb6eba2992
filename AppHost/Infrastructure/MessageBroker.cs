using AspireShop.Hosting.Processes;

namespace AspireShop.AppHost.Infrastructure;

/// <summary>
/// The broker as services use it: the resource they wait for (its connection string the administrator's, or the one
/// given), and, where the AppHost runs the node, a user of each service's own that may use only the shop's order
/// exchanges and queues, with no management rights.
/// </summary>
public sealed class MessageBroker(IResourceBuilder<IResourceWithConnectionString> resource, IResourceBuilder<RabbitMQProcessResource>? local = null)
{
    /// <summary>The exchanges (shop.orders, its dead-letter exchange) and queues (ordering.*) the order pipeline declares and uses.</summary>
    private const string OrderResources = @"^(shop\.orders(\.dead-letter)?|ordering\..+)$";

    public IResourceBuilder<IResourceWithConnectionString> Resource { get; } = resource;

    /// <summary>Adds <paramref name="service"/>'s own user where the AppHost runs the node and returns its connection string; null elsewhere (the service is given <see cref="Resource"/>'s).</summary>
    public ReferenceExpression? AddServiceUser(string service)
        => local is not null && !OperatingSystem.IsWindows() ? local.AddUser(service, OrderResources) : null;
}
