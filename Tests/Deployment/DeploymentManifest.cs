using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Tests.Deployment;

/// <summary>Generates the AppHost's deployment manifest (what azd deploys) the way azd does: publish mode.</summary>
public static class DeploymentManifest
{
    // ProjectPath is the AppHost's folder, which sits at the repository root.
    public static string RepositoryRoot { get; } = Path.GetDirectoryName(Projects.AppHost.ProjectPath.TrimEnd('/'))!;

    /// <summary>The reviewed manifest, committed so that a graph change that alters the deployment shows in review.</summary>
    public static string CommittedPath { get; } = Path.Combine(RepositoryRoot, "deploy", "aspire-manifest.json");

    private static readonly Lazy<Task<string>> DefaultManifest = new(() => GenerateAsync("aspire-manifest.generated.json"));

    public static Task<string> DefaultAsync() => DefaultManifest.Value;

    /// <summary>
    /// Runs the AppHost in publish mode, writing beside the committed manifest so that the relative project paths
    /// inside both are the same. Returns the manifest's text.
    /// </summary>
    public static async Task<string> GenerateAsync(string fileName, params string[] arguments)
    {
        var output = Path.Combine(RepositoryRoot, "deploy", fileName);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in (string[])[Path.Combine(AppContext.BaseDirectory, "AppHost.dll"),
                     "--publisher", "manifest", "--output-path", output, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"manifest generation failed: {await stderr} {await stdout}");
        var text = await File.ReadAllTextAsync(output);
        File.Delete(output);
        return text;
    }

    public static JsonObject Resources(string manifest) => JsonNode.Parse(manifest)!["resources"]!.AsObject();
}
