using System.Diagnostics;

namespace Tests.Observability;

/// <summary>
/// The Prometheus alert rules and configuration in deploy/prometheus, checked and unit-tested with promtool (from the
/// Debian package prometheus): every rule is exercised by alerts.test.yml with series that must fire and must not.
/// </summary>
public sealed class AlertRuleTests
{
    private static readonly string Folder = Path.Combine(RepositoryRoot(), "deploy", "prometheus");

    [Theory]
    [InlineData("check", "rules", "alerts.yml")]
    [InlineData("test", "rules", "alerts.test.yml")]
    [InlineData("check", "config", "prometheus.yml")]
    public async Task PromtoolAccepts(string verb, string kind, string file)
    {
        using var promtool = Process.Start(new ProcessStartInfo("promtool", [verb, kind, file])
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();

        Assert.True(promtool.ExitCode == 0, output);
        Assert.Contains("SUCCESS", output);
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "AspireShop.sln")))
        {
            folder = folder.Parent;
        }

        return folder?.FullName ?? throw new InvalidOperationException("The tests run outside the repository.");
    }
}
