namespace AspireShop.Hosting.Processes;

/// <summary>A RabbitMQ node run as a local process (the Erlang VM started by rabbitmq-server), with the management UI.</summary>
public sealed class RabbitMQProcessResource(string name, string command, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, command, dataDirectory), IResourceWithConnectionString
{
    public const string AmqpEndpointName = "tcp";
    public const string ManagementEndpointName = "management";
    public const string DistributionEndpointName = "dist";
    public const string UserName = "shop";

    public string DataDirectory { get; } = dataDirectory;

    public ParameterResource Password { get; } = password;

    /// <summary>Users beside the administrator <see cref="UserName"/>, each limited to the resources its pattern names.</summary>
    public List<RabbitMQProcessUser> Users { get; } = [];

    public EndpointReference AmqpEndpoint => new(this, AmqpEndpointName);

    public EndpointReference ManagementEndpoint => new(this, ManagementEndpointName);

    public EndpointReference DistributionEndpoint => new(this, DistributionEndpointName);

    public ReferenceExpression ConnectionStringExpression => ConnectionStringAs(UserName, Password);

    public ReferenceExpression ConnectionStringAs(string user, ParameterResource password) => ReferenceExpression.Create(
        $"amqp://{user}:{password}@{AmqpEndpoint.Property(EndpointProperty.Host)}:{AmqpEndpoint.Property(EndpointProperty.Port)}");
}

/// <summary>
/// A RabbitMQ user that may configure, write and read only the exchanges and queues <see cref="Resources"/> (a regular
/// expression) matches on the default virtual host, with no management tag.
/// </summary>
public sealed record RabbitMQProcessUser(string Name, ParameterResource Password, string Resources);

/// <summary>
/// Erlang's port mapper for one RabbitMQ node. It runs as its own resource in the foreground, instead of the
/// daemon the Erlang VM would otherwise spawn, because that daemon outlives the node and is never stopped.
/// </summary>
public sealed class ErlangPortMapperResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory)
{
    public const string EndpointName = "tcp";

    public EndpointReference Endpoint => new(this, EndpointName);
}
