using System.Diagnostics;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// Who a backing server runs as. PostgreSQL refuses to run as root, and CI and containers run the AppHost as root,
/// so there PostgreSQL's programs run as the 'postgres' system user through setpriv. setpriv execs in place rather
/// than forking (unlike su or runuser), so the process the orchestrator watches and stops is the server itself and
/// nothing is left behind when it stops. As a normal user everything simply runs as that user.
/// </summary>
public sealed record ServiceAccount(string? UserName)
{
    private const string SetPriv = "/usr/bin/setpriv";

    public static ServiceAccount Current { get; } = new((string?)null);

    public bool IsSwitched => UserName is not null;

    public static ServiceAccount ForPostgres()
    {
        if (Environment.UserName != "root")
        {
            return Current;
        }

        if (!File.Exists(SetPriv))
        {
            throw new LocalProcessSetupException(
                "running as root, PostgreSQL must run as another user, but setpriv is missing. Install it with 'sudo apt-get install util-linux' or run the AppHost as a normal user.");
        }

        if (!SystemUserExists("postgres"))
        {
            throw new LocalProcessSetupException(
                "running as root, PostgreSQL must run as the 'postgres' user, which does not exist. Install the 'postgresql' package (it creates the user) or run the AppHost as a normal user.");
        }

        return new ServiceAccount("postgres");
    }

    /// <summary>The program to start: the tool itself, or setpriv when the user must change.</summary>
    public string Command(string program) => IsSwitched ? SetPriv : program;

    /// <summary>The arguments that come before the tool's own arguments.</summary>
    public IEnumerable<string> Prefix(string program)
        => IsSwitched ? [$"--reuid={UserName}", $"--regid={UserName}", "--init-groups", "--", program] : [];

    /// <summary>Gives a folder the AppHost created to the service account, so the server can write into it.</summary>
    public async Task TakeOwnershipAsync(string path, CancellationToken cancellationToken)
    {
        if (IsSwitched)
        {
            await ToolRunner.RunAsync("chown", ["-R", $"{UserName}:", path], logger: null, cancellationToken: cancellationToken);
        }
    }

    /// <summary>
    /// Fails with a clear line when <paramref name="folder"/> cannot be created, or the service account cannot write
    /// under it (typically a parent folder is private); otherwise initdb would fail later, less clearly.
    /// </summary>
    public void EnsureCanWriteUnder(string folder)
    {
        if (!CanWriteUnder(folder))
        {
            throw new LocalProcessSetupException(
                $"the '{UserName}' user, which runs PostgreSQL when the AppHost runs as root, cannot reach {folder} (a parent folder is private); put the data elsewhere with --Infrastructure:DataRoot=/tmp/aspireshop/data.");
        }
    }

    /// <summary>Creates <paramref name="folder"/> if needed and tells whether the service account can write under it.</summary>
    public bool CanWriteUnder(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LocalProcessSetupException(
                $"cannot create the data folder {folder} ({e.Message}); choose a writable one with --Infrastructure:DataRoot=<path>.");
        }

        if (!IsSwitched)
        {
            return true;
        }

        var probe = Path.Combine(folder, ".access-probe");
        Directory.CreateDirectory(probe);
        try
        {
            TakeOwnershipAsync(probe, CancellationToken.None).GetAwaiter().GetResult();
            using var test = Process.Start(SetPriv, [.. Prefix("/usr/bin/test"), "-w", probe])!;
            test.WaitForExit();
            return test.ExitCode == 0;
        }
        finally
        {
            Directory.Delete(probe);
        }
    }

    private static bool SystemUserExists(string name)
        => File.ReadLines("/etc/passwd").Any(line => line.StartsWith(name + ":", StringComparison.Ordinal));
}
