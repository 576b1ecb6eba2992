using System.Net;
using System.Net.Sockets;

namespace AspireShop.AppHost.Infrastructure;

/// <summary>
/// Checks, before anything starts, that the fixed ports this AppHost will listen on (dashboard, OTLP, resource
/// service and the services' launch-profile ports) are free. Otherwise a second AppHost, or anything else on those
/// ports, shows up as a bind failure deep in a log or a resource that never starts.
/// </summary>
internal static class AppHostPorts
{
    private static readonly string[] UrlSettings =
    [
        "ASPNETCORE_URLS",
        "ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL",
        "ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL",
        "ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL",
        "DOTNET_DASHBOARD_OTLP_ENDPOINT_URL",
        "DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL",
        "DOTNET_RESOURCE_SERVICE_ENDPOINT_URL",
    ];

    public static void EnsureFree(IDistributedApplicationBuilder builder)
    {
        if (!builder.ExecutionContext.IsRunMode)
        {
            return;
        }

        foreach (var setting in UrlSettings)
        {
            foreach (var url in (builder.Configuration[setting] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Port > 0 && InUse(uri.Port))
                {
                    throw new AppHostSetupException(
                        $"port {uri.Port} ({setting}={url}) is already in use, probably by another AppHost; stop it, or change the port in AppHost/Properties/launchSettings.json.");
                }
            }
        }

        // The test host randomises service ports, so fixed ones only matter for a normal run.
        if (string.Equals(builder.Configuration["DcpPublisher:RandomizePorts"], "true", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        foreach (var resource in builder.Resources.OfType<ProjectResource>())
        {
            foreach (var endpoint in resource.Annotations.OfType<EndpointAnnotation>())
            {
                if (endpoint.Port is { } port && InUse(port))
                {
                    throw new AppHostSetupException(
                        $"port {port} ({resource.Name}'s {endpoint.Name} endpoint) is already in use, probably by another AppHost; stop it, or change applicationUrl in {resource.Name}'s Properties/launchSettings.json.");
                }
            }
        }
    }

    private static bool InUse(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
