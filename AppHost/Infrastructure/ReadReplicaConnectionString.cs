namespace AspireShop.AppHost.Infrastructure;

/// <summary>
/// One connection string for reads: every standby, then the primary, with Npgsql's multi-host support choosing.
/// <c>Target Session Attributes=prefer-standby</c> sends reads to a standby and falls back to the primary only when
/// no standby answers; <c>Load Balance Hosts</c> spreads connections over the standbys. Npgsql does the routing,
/// so services need no code of their own for it.
/// </summary>
internal static class ReadReplicaConnectionString
{
    public static ReferenceExpression Create(
        IEnumerable<EndpointReference> standbys, EndpointReference primary, ReferenceExpression userName, ParameterResource password, string database)
    {
        var expression = new ReferenceExpressionBuilder();
        expression.AppendLiteral("Host=");
        foreach (var standby in standbys)
        {
            expression.Append($"{standby.Property(EndpointProperty.Host)}:{standby.Property(EndpointProperty.Port)},");
        }

        expression.Append($"{primary.Property(EndpointProperty.Host)}:{primary.Property(EndpointProperty.Port)}");
        expression.Append($";Username={userName};Password={password};Database={database}");
        expression.AppendLiteral(";Target Session Attributes=prefer-standby;Load Balance Hosts=true");
        return expression.Build();
    }
}
