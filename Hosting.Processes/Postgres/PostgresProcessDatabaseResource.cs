namespace AspireShop.Hosting.Processes;

/// <summary>A database on a <see cref="PostgresProcessResource"/>: its state is the server's, its health its own.</summary>
public sealed class PostgresProcessDatabaseResource(string name, string databaseName, PostgresProcessResource server)
    : Resource(name), IResourceWithParent<PostgresProcessResource>, IResourceWithConnectionString
{
    public PostgresProcessResource Parent { get; } = server;

    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{Parent.ConnectionStringExpression};Database={DatabaseName}");
}
