namespace AspireShop.Hosting.Processes;

/// <summary>
/// A PostgreSQL server run as a local process from the installed binaries: the primary, or a streaming standby of
/// another <see cref="PostgresProcessResource"/> (<see cref="Primary"/> set).
/// </summary>
public sealed class PostgresProcessResource(
    string name,
    string command,
    string dataDirectory,
    ParameterResource password,
    ParameterResource replicationPassword,
    PostgresProcessResource? primary,
    IReadOnlyList<string> settings)
    : ExecutableResource(name, command, System.IO.Path.GetDirectoryName(dataDirectory)!), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";
    public const string SuperUser = "postgres";

    /// <summary>The only role a replication connection is accepted for (pg_hba.conf): the standbys'.</summary>
    public const string ReplicationUser = "replicator";

    private EndpointReference? _endpoint;

    public string DataDirectory { get; } = dataDirectory;

    public ParameterResource Password { get; } = password;

    /// <summary>The password of <see cref="ReplicationUser"/>, the primary's (a standby's is its primary's).</summary>
    public ParameterResource ReplicationPassword { get; } = replicationPassword;

    /// <summary>The server this one streams from; null for a primary.</summary>
    public PostgresProcessResource? Primary { get; } = primary;

    /// <summary>Server settings (<c>name=value</c>), the same for a primary and its standbys.</summary>
    public IReadOnlyList<string> Settings { get; } = settings;

    /// <summary>Databases created when the primary's data directory is initialised.</summary>
    public List<string> Databases { get; } = [];

    /// <summary>
    /// SQL run as the superuser in each database named (or <c>postgres</c>) after the databases are created and before
    /// the server accepts connections; statements end with a semicolon and a blank line.
    /// </summary>
    public List<(string Database, ReferenceExpression Sql)> InitialisationSql { get; } = [];

    public EndpointReference Endpoint => _endpoint ??= new(this, EndpointName);

    /// <summary>Replication slot name for a standby (letters, digits and underscores only).</summary>
    public string SlotName => Name.Replace('-', '_');

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={Endpoint.Property(EndpointProperty.Host)};Port={Endpoint.Property(EndpointProperty.Port)};Username={SuperUser};Password={Password}");
}
