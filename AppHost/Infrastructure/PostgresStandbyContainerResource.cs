namespace AspireShop.AppHost.Infrastructure;

/// <summary>A PostgreSQL hot standby in a container, cloned from and streaming from a <see cref="PostgresServerResource"/>.</summary>
public sealed class PostgresStandbyContainerResource(string name, PostgresServerResource primary)
    : ContainerResource(name), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";
    public const int Port = 5432;

    public PostgresServerResource Primary { get; } = primary;

    public EndpointReference Endpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={Endpoint.Property(EndpointProperty.Host)};Port={Endpoint.Property(EndpointProperty.Port)};Username={Primary.UserNameReference};Password={Primary.PasswordParameter}");
}
