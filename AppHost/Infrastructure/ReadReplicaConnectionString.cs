namespace AspireShop.AppHost.Infrastructure;

/// <summary>
/// One connection string for reads: every standby, then the primary, with Npgsql's multi-host support choosing.
/// <c>Target Session Attributes=prefer-standby</c> sends reads to a standby and falls back to the primary only when
/// no standby answers; <c>Load Balance Hosts</c> spreads connections over the standbys. Npgsql does the routing,
/// so services need no code of their own for it.
/// </summary>
internal static class ReadReplicaConnectionString
{
    public static IResourceBuilder<ConnectionStringResource> AddReadReplicaConnectionString(
        this IDistributedApplicationBuilder builder,
        string name,
        IResourceBuilder<IResourceWithEndpoints> primary,
        IReadOnlyList<IResourceBuilder<IResourceWithEndpoints>> standbys,
        string endpointName,
        ReferenceExpression userName,
        ParameterResource password,
        string database)
    {
        var expression = Expression(
            [.. standbys.Append(primary).Select(server => server.Resource.GetEndpoint(endpointName))], userName, password, database);
        var connectionString = builder.AddConnectionString(name, expression).WaitFor(primary);
        foreach (var standby in standbys)
        {
            connectionString.WaitFor(standby);
        }

        return connectionString;
    }

    /// <summary>The connection string to <paramref name="servers"/> (the standbys, then the primary) as <paramref name="userName"/>.</summary>
    public static ReferenceExpression Expression(IReadOnlyList<EndpointReference> servers, ReferenceExpression userName, ParameterResource password, string database)
    {
        var expression = new ReferenceExpressionBuilder();
        expression.AppendLiteral("Host=");
        for (var i = 0; i < servers.Count; i++)
        {
            expression.Append($"{(i == 0 ? "" : ",")}{servers[i].Property(EndpointProperty.Host)}:{servers[i].Property(EndpointProperty.Port)}");
        }

        expression.Append($";Username={userName};Password={password};Database={database}");
        expression.AppendLiteral(";Target Session Attributes=prefer-standby;Load Balance Hosts=true");
        return expression.Build();
    }
}
