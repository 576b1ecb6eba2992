using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery;
using Web.Blazor.Ordering;

namespace Web.Blazor.Catalog;

public static class CatalogApiClients
{
    /// <summary>
    /// The site's HttpClients for Catalog.Api: found by service discovery (ServiceDefaults adds it and the standard
    /// resilience handler to every HttpClient, so a retry picks a replica again), over every replica the AppHost lists,
    /// balanced by <see cref="CatalogApiOptions.LoadBalancing"/>.
    /// </summary>
    public static IHostApplicationBuilder AddCatalogApiClients(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(CatalogApiOptions.SectionName);
        if (section[nameof(CatalogApiOptions.ReplicaEndpointsFile)] is { Length: > 0 } replicas)
        {
            builder.Configuration.AddJsonFile(replicas, optional: true, reloadOnChange: true);
        }

        builder.Services.AddOptions<CatalogApiOptions>().Bind(section).ValidateOnStart();
        builder.Services.AddSingleton<CatalogApiRequestsInFlight>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddTransient<CatalogApiBalancingHandler>();

        builder.Services.AddHttpClient<CatalogClient>(Configure).AddHttpMessageHandler<CatalogApiBalancingHandler>();
        builder.Services.AddHttpClient(CatalogApiHealthCheck.HttpClientName, Configure).AddHttpMessageHandler<CatalogApiBalancingHandler>();
        return builder;

        static void Configure(HttpClient client) => client.BaseAddress = new(CatalogApiOptions.ServiceUri);
    }
}

/// <summary>How the site spreads its requests over the replicas of Catalog.Api.</summary>
public enum CatalogApiLoadBalancing
{
    /// <summary>Each request to the next replica in turn (service discovery's own selector).</summary>
    RoundRobin,

    /// <summary>
    /// Each request to the replica with the fewest requests of this site still in flight. The default: a catalog
    /// request costs anywhere from a memory hit to a replica query, so counting requests in flight steers away from a
    /// replica that is slow right now (a long query, a GC pause), which round robin keeps feeding.
    /// </summary>
    LeastRequests,

    /// <summary>
    /// Each shopper's requests to one replica, chosen from the shopper's address by rendezvous hashing: the same client
    /// lands on the same replica across requests and across the site's replicas (whose caches it then warms), and a
    /// replica that leaves moves only its own clients; the seed's "IP hash".
    /// </summary>
    ClientAddressHash,
}

/// <summary>The <c>CatalogApi</c> settings of the site.</summary>
public sealed class CatalogApiOptions
{
    public const string SectionName = "CatalogApi";

    public const string ServiceUri = "https+http://catalog-api";

    public CatalogApiLoadBalancing LoadBalancing { get; set; } = CatalogApiLoadBalancing.LeastRequests;

    /// <summary>
    /// A configuration file, kept up to date by the AppHost, listing every running replica of Catalog.Api in service
    /// discovery's layout. Without it service discovery knows one address (the orchestrator's proxy or the platform's
    /// ingress), which does the balancing instead.
    /// </summary>
    public string? ReplicaEndpointsFile { get; set; }
}

/// <summary>
/// Least-requests and client-address balancing for the calls to Catalog.Api. Written here because neither library
/// offers them for an HttpClient: service discovery resolves the replicas (and follows them as they come and go) but
/// always selects round robin, and YARP's policies only run inside its reverse proxy. Runs after service discovery's
/// handler and replaces its choice with the replica the policy picks.
/// </summary>
public sealed class CatalogApiBalancingHandler(
    ServiceEndpointResolver resolver, CatalogApiRequestsInFlight inFlight, IHttpContextAccessor shopper, IOptions<CatalogApiOptions> options)
    : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var policy = options.Value.LoadBalancing;
        if (policy == CatalogApiLoadBalancing.RoundRobin || request.RequestUri is not { } chosen)
        {
            return await base.SendAsync(request, cancellationToken);
        }

        var replicas = (await resolver.GetEndpointsAsync(CatalogApiOptions.ServiceUri, cancellationToken)).Endpoints
            .Select(endpoint => endpoint.EndPoint switch
            {
                UriEndPoint uri => uri.Uri,
                DnsEndPoint dns => new UriBuilder(chosen.Scheme, dns.Host, dns.Port).Uri,
                _ => null,
            })
            .OfType<Uri>()
            .ToList();
        // A call made outside a shopper's request (the health check) has no client address: least requests.
        var target = (policy == CatalogApiLoadBalancing.ClientAddressHash && shopper.HttpContext?.Connection.RemoteIpAddress is { } client
                ? ClientAffinity.ReplicaFor(client, replicas)
                : inFlight.LeastBusy(replicas))
            ?? new Uri(chosen.GetLeftPart(UriPartial.Authority));
        request.RequestUri = new UriBuilder(chosen) { Scheme = target.Scheme, Host = target.Host, Port = target.Port }.Uri;

        using var _ = inFlight.Start(target);
        return await base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Rendezvous (highest random weight) hashing of a client address over the replicas.</summary>
public static class ClientAffinity
{
    /// <summary>
    /// The replica whose hash with the client's address is highest. A stable hash (SHA-256, not string hashing, which
    /// differs per process), so every replica of the site picks the same one for a client.
    /// </summary>
    public static Uri? ReplicaFor(IPAddress client, IReadOnlyList<Uri> replicas)
    {
        Span<byte> input = stackalloc byte[16 + 256];
        Span<byte> hash = stackalloc byte[32];
        Uri? best = null;
        ulong highest = 0;
        foreach (var replica in replicas)
        {
            var authority = replica.GetLeftPart(UriPartial.Authority);
            if (!client.TryWriteBytes(input, out var written) || !System.Text.Encoding.UTF8.TryGetBytes(authority, input[written..], out var more))
            {
                continue;
            }

            System.Security.Cryptography.SHA256.HashData(input[..(written + more)], hash);
            var weight = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(hash);
            if (best is null || weight > highest)
            {
                (best, highest) = (replica, weight);
            }
        }

        return best;
    }
}

/// <summary>This process's requests in flight to each replica of Catalog.Api (shared by all its HttpClients).</summary>
public sealed class CatalogApiRequestsInFlight
{
    private readonly ConcurrentDictionary<string, StrongBox<int>> _counts = new();
    private int _turn;

    /// <summary>The replica with the fewest requests in flight; ties go round robin, so an idle site still uses every replica.</summary>
    public Uri? LeastBusy(IReadOnlyList<Uri> replicas)
    {
        if (replicas.Count == 0)
        {
            return null;
        }

        var start = (int)((uint)Interlocked.Increment(ref _turn) % (uint)replicas.Count);
        Uri? best = null;
        var fewest = int.MaxValue;
        for (var i = 0; i < replicas.Count; i++)
        {
            var replica = replicas[(start + i) % replicas.Count];
            var count = Volatile.Read(ref CountOf(replica).Value);
            if (count < fewest)
            {
                (best, fewest) = (replica, count);
            }
        }

        return best;
    }

    public IDisposable Start(Uri replica)
    {
        var count = CountOf(replica);
        Interlocked.Increment(ref count.Value);
        return new Finished(count);
    }

    private StrongBox<int> CountOf(Uri replica) => _counts.GetOrAdd(replica.GetLeftPart(UriPartial.Authority), _ => new StrongBox<int>());

    private sealed class Finished(StrongBox<int> count) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                Interlocked.Decrement(ref count.Value);
            }
        }
    }
}
