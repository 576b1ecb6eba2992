using System.Text.RegularExpressions;

namespace Tests.Unit.Architecture;

/// <summary>
/// A process's command line is readable by every local user (ps, /proc/PID/cmdline), its environment only by its own
/// user: the scripts hand secrets to the AppHost and to signers in the environment.
/// </summary>
public sealed partial class SecretsOnCommandLinesTests
{
    [Fact]
    public void NoScriptPassesAKeyOrPasswordOnACommandLine()
    {
        var root = RepositoryRoot.Path;
        var offenders = new[] { "bench", "scripts", ".ci" }
            .Select(folder => Path.Combine(root, folder))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.GetFiles(folder, "*", SearchOption.AllDirectories))
            .Where(file => file.EndsWith(".sh", StringComparison.Ordinal) || Path.GetFileName(file) == "run")
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (file, line, number: i + 1)))
            .Where(line => !line.line.TrimStart().StartsWith('#') && SecretArgument().IsMatch(line.line))
            .Select(line => $"{Path.GetRelativePath(root, line.file)}:{line.number}: {line.line.Trim()}")
            .ToList();

        Assert.True(offenders.Count == 0, "secrets on a command line:\n" + string.Join('\n', offenders));
    }

    [Theory]
    [InlineData("""graph_start log --Scale:Topology=ScaleOut --Parameters:buyer-token-signing-key="$key" \""")]
    [InlineData("""signature=$(printf '%s' "$x" | openssl dgst -sha256 -hmac "$key" -binary | b64url)""")]
    [InlineData("""dotnet run --project AppHost -- --Parameters:postgres-password=secret""")]
    public void TheCheckSeesTheWaysASecretReachedACommandLine(string line) => Assert.Matches(SecretArgument(), line);

    // An AppHost parameter that is a key or a password given as an argument, or an HMAC key given to openssl.
    [GeneratedRegex(@"--Parameters:[\w-]*(key|password|secret)[\w-]*=|\s-hmac\s|-macopt\s+""?(hex)?key:", RegexOptions.IgnoreCase)]
    private static partial Regex SecretArgument();
}
