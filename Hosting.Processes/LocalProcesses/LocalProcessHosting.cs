using System.Runtime.Versioning;
using Microsoft.Extensions.DependencyInjection;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// What every server run as a local process shares: the installed programs and the one data folder. Registered once
/// on the builder (<see cref="LocalProcessHostingExtensions.UseLocalProcesses"/>) and read by each
/// <c>RunAsLocalProcess</c>, so no call has to pass them along.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class LocalProcessHosting(HostBinaries binaries, ProcessDataRoot dataRoot)
{
    public HostBinaries Binaries { get; } = binaries;

    public ProcessDataRoot DataRoot { get; } = dataRoot;
}

[UnsupportedOSPlatform("windows")]
public static class LocalProcessHostingExtensions
{
    /// <summary>
    /// Finds the server programs and claims the data folder (both refused with a <see cref="LocalProcessSetupException"/>
    /// before anything starts), and holds the AppHost's exit until every server it started has exited.
    /// </summary>
    public static LocalProcessHosting UseLocalProcesses(
        this IDistributedApplicationBuilder builder, ServerProgramSettings programs, string? configuredDataRoot)
    {
        var hosting = new LocalProcessHosting(HostBinaries.Locate(programs), ProcessDataRoot.Claim(builder, configuredDataRoot));
        builder.Services.AddSingleton(hosting);
        builder.Services.AddSingleton(hosting.DataRoot);
        builder.Services.AddHostedService<ServerExitWait>();
        return hosting;
    }

    /// <summary>
    /// Takes the container's place in the model: a local process of the same name. The container integrations create
    /// their default password parameters outside the model; the process's parameter is put in it, so it is shown with
    /// the others and whatever waits on it (a connection string that embeds it) finds it.
    /// </summary>
    public static void ReplaceWithLocalProcess(this IDistributedApplicationBuilder builder, ContainerResource container, params ParameterResource?[] parameters)
    {
        builder.Resources.Remove(container);
        foreach (var parameter in parameters.OfType<ParameterResource>().Where(parameter => !builder.Resources.Contains(parameter)))
        {
            builder.AddResource(parameter);
        }
    }

    /// <summary>The hosting <see cref="UseLocalProcesses"/> registered.</summary>
    public static LocalProcessHosting LocalProcesses(this IDistributedApplicationBuilder builder)
        => builder.Services.Select(service => service.ImplementationInstance).OfType<LocalProcessHosting>().SingleOrDefault()
            ?? throw new InvalidOperationException("Call UseLocalProcesses on the builder before running a server as a local process.");
}
