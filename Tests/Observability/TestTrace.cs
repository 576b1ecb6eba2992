namespace Tests.Observability;

/// <summary>A trace a test starts itself (as a traced client would), so it can find what the services exported for it.</summary>
public sealed record TestTrace(string TraceId)
{
    public static TestTrace New() => new(Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()));

    /// <summary>The W3C <c>traceparent</c> header of a sampled request in this trace, with a new parent span id.</summary>
    public string TraceParent => $"00-{TraceId}-{Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64()))}-01";
}
