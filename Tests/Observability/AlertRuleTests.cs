using System.Diagnostics;

namespace Tests.Observability;

/// <summary>
/// The Prometheus alert rules and configuration in deploy/prometheus, checked and unit-tested with promtool (from the
/// Debian package prometheus): every rule is exercised by alerts.test.yml with series that must fire and must not.
/// </summary>
public sealed class AlertRuleTests
{
    private static readonly string Folder = Path.Combine(RepositoryPaths.Root, "deploy", "prometheus");

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
}
