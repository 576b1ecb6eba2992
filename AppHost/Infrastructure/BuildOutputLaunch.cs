using System.Reflection;

namespace AspireShop.AppHost.Infrastructure;

public static class BuildOutputLaunchExtensions
{
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
