namespace AspireShop.Hosting.Processes;

/// <summary>
/// A Redis server run as a local process (redis-server), its data kept in an append-only file. The default user,
/// with the server's password, may do anything; each of <see cref="Users"/> only what its ACL rules allow.
/// </summary>
public sealed class RedisProcessResource(string name, string command, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, command, dataDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    private EndpointReference? _endpoint;

    public string DataDirectory { get; } = dataDirectory;

    public ParameterResource Password { get; } = password;

    public EndpointReference Endpoint => _endpoint ??= new(this, EndpointName);

    /// <summary>Users beside the default one, each limited to the keys and channels its rules name.</summary>
    public List<RedisProcessUser> Users { get; } = [];

    /// <summary>StackExchange.Redis format, the same shape the Aspire Redis container integration hands out.</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{Endpoint.Property(EndpointProperty.Host)}:{Endpoint.Property(EndpointProperty.Port)},password={Password}");

    /// <summary>
    /// As <see cref="ConnectionStringExpression"/>, signed in as <paramref name="user"/>. StackExchange.Redis reads
    /// CONFIG and a tie-breaker key on every connection, which such a user may not: the connection string turns both
    /// off (an empty <c>tiebreaker</c>, <c>$CONFIG</c> mapped to nothing) so they are not refused on every reconnect.
    /// </summary>
    public ReferenceExpression ConnectionStringAs(RedisProcessUser user) => ReferenceExpression.Create(
        $"{Endpoint.Property(EndpointProperty.Host)}:{Endpoint.Property(EndpointProperty.Port)},user={user.Name},password={user.Password},tiebreaker=,$CONFIG=");
}

/// <summary>
/// A Redis ACL user that may read and write only the keys <see cref="KeyPatterns"/> match and use only the channels
/// <see cref="ChannelPatterns"/> match (Redis glob patterns), with no command of the <c>@dangerous</c> category
/// (KEYS, FLUSHALL, CONFIG, ACL and the like) but INFO, from which StackExchange.Redis learns the server's version
/// and role, and the channel it subscribes every connection to.
/// </summary>
public sealed record RedisProcessUser(string Name, ParameterResource Password, IReadOnlyList<string> KeyPatterns, IReadOnlyList<string> ChannelPatterns);
