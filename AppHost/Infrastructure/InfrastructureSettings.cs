using System.Diagnostics;
using System.Runtime.Versioning;
using AspireShop.Hosting.Processes;

namespace AspireShop.AppHost.Infrastructure;

public enum InfrastructureMode
{
    /// <summary>Run: containers when a container runtime answers, local processes otherwise. Deployed: external.</summary>
    Auto,

    /// <summary>
    /// The Aspire container integrations (Docker or Podman). Deployed, only when named: a demo whose data lives only
    /// as long as its containers.
    /// </summary>
    Containers,

    /// <summary>The same servers as local processes from installed binaries (no container runtime needed).</summary>
    Processes,

    /// <summary>
    /// Servers that already exist (managed services in production): their connection strings are secret parameters
    /// (<c>ConnectionStrings:catalogdb</c> and so on) and nothing is started or deployed for them.
    /// </summary>
    External,
}

/// <summary>
/// The <c>Infrastructure</c> configuration section of the AppHost (appsettings.json, environment variables such as
/// <c>Infrastructure__Mode=processes</c>, or command-line arguments such as <c>--Infrastructure:Mode=processes</c>).
/// </summary>
public sealed class InfrastructureSettings
{
    public const string SectionName = "Infrastructure";

    public InfrastructureMode Mode { get; private set; } = InfrastructureMode.Auto;

    /// <summary>Streaming read replicas of the catalog's PostgreSQL primary, where the API's catalog reads go.</summary>
    public int PostgresReplicas { get; private set; } = 1;

    /// <summary>
    /// Processes mode: the one folder under which every backing server keeps its data and logs. It is emptied when
    /// the AppHost starts (a fresh shop on each run, like containers without volumes) and left in place when it
    /// stops, so the last run can be inspected. Relative paths are taken from the repository root. When not set,
    /// <c>.aspireshop/data</c> in the repository, or a folder of its own under /tmp where PostgreSQL's account
    /// cannot reach the repository (see <see cref="Processes.ProcessDataRoot.Locate"/>).
    /// </summary>
    public string? DataRoot { get; private set; }

    /// <summary>Processes mode: folder with postgres, initdb and pg_basebackup; found under /usr/lib/postgresql when empty.</summary>
    public string? PostgresBinDirectory { get; private set; }

    /// <summary>Processes mode: the redis-server program; looked up on PATH when empty.</summary>
    public string? RedisServerPath { get; private set; }

    /// <summary>Processes mode: the rabbitmq-server script; /usr/lib/rabbitmq/bin or PATH when empty.</summary>
    public string? RabbitMQServerPath { get; private set; }

    /// <summary>Processes mode: the prometheus program; looked up on PATH when empty.</summary>
    public string? PrometheusPath { get; private set; }

    /// <summary>
    /// The servers run as local processes. Never on Windows (<see cref="From"/> refuses that), which the platform
    /// analyzer is told so that it accepts the local-process calls this guards.
    /// </summary>
    [UnsupportedOSPlatformGuard("windows")]
    public bool RunsLocalProcesses => Mode is InfrastructureMode.Processes;

    /// <summary>Where the server programs are, for <see cref="LocalProcessHostingExtensions.UseLocalProcesses"/>.</summary>
    public ServerProgramSettings Programs => new(PostgresBinDirectory, RedisServerPath, RabbitMQServerPath, PrometheusPath);

    /// <summary>The settings, with <see cref="Mode"/> resolved for this run (never <see cref="InfrastructureMode.Auto"/>).</summary>
    public static InfrastructureSettings From(IDistributedApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(SectionName);
        var settings = new InfrastructureSettings();

        if (section[nameof(Mode)] is { Length: > 0 } mode)
        {
            settings.Mode = Enum.TryParse<InfrastructureMode>(mode, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                ? parsed
                : throw new AppHostSetupException(
                    $"Infrastructure:Mode is '{mode}'; use auto, containers, processes or external.");
        }

        if (section[nameof(PostgresReplicas)] is { Length: > 0 } replicas)
        {
            settings.PostgresReplicas = int.TryParse(replicas, out var count) && count is >= 0 and <= 8
                ? count
                : throw new AppHostSetupException(
                    $"Infrastructure:PostgresReplicas is '{replicas}'; use a number from 0 to 8.");
        }

        settings.DataRoot = section[nameof(DataRoot)] is { Length: > 0 } dataRoot ? dataRoot : null;
        settings.PostgresBinDirectory = section[nameof(PostgresBinDirectory)];
        settings.RedisServerPath = section[nameof(RedisServerPath)];
        settings.RabbitMQServerPath = section[nameof(RabbitMQServerPath)];
        settings.PrometheusPath = section[nameof(PrometheusPath)];
        settings.Mode = settings.ResolveMode(builder.ExecutionContext);
        if (settings.Mode is InfrastructureMode.Processes && OperatingSystem.IsWindows())
        {
            throw new AppHostSetupException(
                "processes mode runs the backing servers from Linux or macOS binaries; on Windows start Docker Desktop or Podman and use Infrastructure:Mode=containers.");
        }

        return settings;
    }

    /// <summary>
    /// Publish mode deploys against external (managed) servers unless containers are named: Container Apps cannot give
    /// PostgreSQL a volume it runs on, so containers deployed there lose every order when they restart, which only a
    /// demo that says so may accept. (azd cannot deploy local processes.) Run mode uses containers only when a
    /// container runtime actually answers, because an unhealthy runtime leaves every container resource waiting forever.
    /// </summary>
    private InfrastructureMode ResolveMode(DistributedApplicationExecutionContext executionContext)
    {
        if (executionContext.IsPublishMode)
        {
            return Mode is InfrastructureMode.Containers ? InfrastructureMode.Containers : InfrastructureMode.External;
        }

        return Mode is InfrastructureMode.Auto
            ? (ContainerRuntimeAnswers() ? InfrastructureMode.Containers : InfrastructureMode.Processes)
            : Mode;
    }

    private static bool ContainerRuntimeAnswers()
    {
        var runtime = Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME")
            ?? Environment.GetEnvironmentVariable("DOTNET_ASPIRE_CONTAINER_RUNTIME")
            ?? "docker";
        try
        {
            using var info = Process.Start(new ProcessStartInfo(runtime, ["info", "--format", "{{.ServerVersion}}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (info is null)
            {
                return false;
            }

            if (!info.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                info.Kill(entireProcessTree: true);
                return false;
            }

            return info.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no such client installed
        }
    }
}
