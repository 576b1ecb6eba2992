using System.Reflection;

namespace AspireShop.AppHost.Infrastructure;

public static class BuildOutputLaunchExtensions
{
    /// <summary>
    /// A service of the shop: started from its build output (no MSBuild on each start, <see cref="RunFromBuildOutput"/>)
    /// and serving plain HTTP here. With no HTTPS endpoint it needs no development certificate, so a fresh machine's
    /// dashboard has no certificate warning; TLS ends at the platform's ingress when deployed.
    /// </summary>
    // (WithoutHttpsCertificate is marked experimental in Aspire 13.6.)
#pragma warning disable ASPIRECERTIFICATES001
    public static IResourceBuilder<ProjectResource> AddShopService<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
        => builder.AddProject<TProject>(name).RunFromBuildOutput().WithoutHttpsCertificate();
#pragma warning restore ASPIRECERTIFICATES001

    /// <summary>
    /// Starts the project's built assembly with <c>dotnet &lt;assembly&gt;</c> instead of <c>dotnet run</c>. Aspire
    /// launches a project through <c>dotnet run --no-build</c>, which evaluates the project with MSBuild first: about
    /// 2 s of CPU per process on every start, paid by every replica while the servers boot on the same cores. The
    /// AppHost's build records where each referenced project's assembly is (AppHost.csproj); the process is then the
    /// service itself, which is also what a stop or a kill reaches. Where no built assembly is recorded (a project
    /// not built with the AppHost), Aspire's own launch stays.
    /// </summary>
    public static IResourceBuilder<ProjectResource> RunFromBuildOutput(this IResourceBuilder<ProjectResource> project)
    {
        if (!project.ApplicationBuilder.ExecutionContext.IsRunMode)
        {
            return project;
        }

        var projectPath = project.Resource.GetProjectMetadata().ProjectPath;
        if (BuildOutputOf(projectPath) is not { } assembly || !File.Exists(assembly))
        {
            return project;
        }

        return project
            .WithAnnotation(
                new ExecutableAnnotation { Command = "dotnet", WorkingDirectory = Path.GetDirectoryName(projectPath)! },
                ResourceAnnotationMutationBehavior.Replace)
            .WithArgs(assembly);
    }

    private static string? BuildOutputOf(string projectPath)
        => typeof(BuildOutputLaunchExtensions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == $"BuildOutput:{Path.GetFullPath(projectPath)}")?.Value;
}
