using System.Globalization;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// The one folder under which processes mode keeps every server's data (the AppHost's <c>Infrastructure:DataRoot</c>).
/// Claiming it takes an exclusive lock for the AppHost's lifetime, refuses to touch it while servers from an earlier
/// run still use it, and then empties it so every run starts from a known state.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class ProcessDataRoot : IDisposable
{
    /// <summary>
    /// Set in the environment of every server processes mode starts (children inherit it), so servers of one run can
    /// be found afterwards, whatever their command line looks like.
    /// </summary>
    public const string MarkerVariable = "ASPIRESHOP_DATA_ROOT";

    private const string LockFileName = ".apphost.lock";

    // The lock file cannot be read by others while it is locked, so the owner's pid goes beside it.
    private const string OwnerFileName = ".apphost.pid";

    // Held open, and so locked, for as long as the application runs.
    private readonly FileStream _lock;

    private ProcessDataRoot(string path, FileStream lockFile)
    {
        Path = path;
        _lock = lockFile;
    }

    public string Path { get; }

    public string For(string resourceName) => System.IO.Path.Combine(Path, resourceName);

    /// <summary>
    /// The folder to use, created: the configured one (relative paths from the repository root), else
    /// <c>.aspireshop/data</c> in the repository, or, when the account that runs PostgreSQL cannot reach that (a clone
    /// under a private home folder while the AppHost runs as root), a folder of this repository's own under the system's
    /// temporary folder, with a notice that says so. A configured folder is never replaced: it is used or refused.
    /// </summary>
    public static (string Path, string? Notice) Locate(string? configured, string repositoryRoot)
    {
        var postgres = ServiceAccount.ForPostgres();
        if (configured is not null)
        {
            var path = System.IO.Path.GetFullPath(configured, repositoryRoot);
            postgres.EnsureCanWriteUnder(path);
            return (path, null);
        }

        var preferred = System.IO.Path.Combine(repositoryRoot, ".aspireshop", "data");
        if (postgres.CanWriteUnder(preferred))
        {
            return (preferred, null);
        }

        var fallbackHome = FallbackFolder(repositoryRoot);
        ClaimPrivateFolder(fallbackHome, postgres);
        var fallback = System.IO.Path.Combine(fallbackHome, "data");
        postgres.EnsureCanWriteUnder(fallback);
        return (fallback,
            $"the '{postgres.UserName}' user, which runs PostgreSQL, cannot reach {preferred} (a parent folder is private), so the data goes to {fallback}; choose another folder with --Infrastructure:DataRoot=<path>.");
    }

    /// <summary>
    /// The folder under the system's temporary folder that holds a clone's data when PostgreSQL's account cannot reach
    /// the clone: one per clone, so two clones can run side by side, and the same one on every run.
    /// </summary>
    public static string FallbackFolder(string repositoryRoot)
        => System.IO.Path.Combine(
            System.IO.Path.GetTempPath(), $"aspireshop-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(repositoryRoot)))[..12]}");

    /// <summary>
    /// The temporary folder is shared with every local user, and its name can be guessed: the fallback folder is made
    /// private (0700) to the account that runs PostgreSQL, and one that is already there is used only when it is a real
    /// folder of this user's or that account's. A symbolic link, or a folder of anyone else's, could hand the servers'
    /// data, passwords included, to another user, or have the AppHost empty a folder it does not own.
    /// </summary>
    private static void ClaimPrivateFolder(string folder, ServiceAccount postgres)
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        var entry = new DirectoryInfo(folder);
        if (!entry.Exists && entry.LinkTarget is null && !File.Exists(folder))
        {
            Directory.CreateDirectory(folder, Private);
        }

        entry.Refresh();
        if (entry.LinkTarget is not null || !entry.Exists)
        {
            throw new LocalProcessSetupException(
                $"{folder} is {(entry.LinkTarget is not null ? $"a symbolic link (to {entry.LinkTarget})" : "not a folder")}, where the data folder was to be made; remove it, or choose a folder with --Infrastructure:DataRoot=<path>.");
        }

        var owner = OwnerOf(folder);
        if (owner != Environment.UserName && owner != postgres.UserName)
        {
            throw new LocalProcessSetupException(
                $"{folder} belongs to the user '{owner}', not to this AppHost's user or the account that runs PostgreSQL; remove it, or choose a folder with --Infrastructure:DataRoot=<path>.");
        }

        File.SetUnixFileMode(folder, Private);
        if (postgres.IsSwitched && owner != postgres.UserName)
        {
            ToolRunner.RunAsync("chown", [$"{postgres.UserName}:", folder], logger: null).GetAwaiter().GetResult();
        }
    }

    private static string OwnerOf(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["--format=%U", path])
        {
            RedirectStandardOutput = true,
        })!;
        var owner = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return owner;
    }

    /// <summary>Releases the lock when the application is disposed (a test host may start another one in-process).</summary>
    public void Dispose() => _lock.Dispose();

    public static ProcessDataRoot Claim(IDistributedApplicationBuilder builder, string? configuredRoot)
    {
        var repositoryRoot = System.IO.Path.GetDirectoryName(builder.AppHostDirectory.TrimEnd('/')) ?? builder.AppHostDirectory;
        var (root, notice) = Locate(configuredRoot, repositoryRoot);
        if (notice is not null)
        {
            Console.WriteLine($"AspireShop: {notice}");
        }

        FileStream lockFile;
        var lockPath = System.IO.Path.Combine(root, LockFileName);
        // Emptying a folder is safe only when it is one of ours: an earlier run's (its lock or owner file is there) or
        // empty. Anything else (a mistyped path, a home folder, /) is refused before the lock file is even created.
        var ours = File.Exists(lockPath) || File.Exists(System.IO.Path.Combine(root, OwnerFileName)) || !Directory.EnumerateFileSystemEntries(root).Any();
        if (!ours)
        {
            throw new LocalProcessSetupException(
                $"the data folder {root} is not empty and was not made by an AppHost (it has no {OwnerFileName}), and a run empties its data folder: give an empty or new folder with --Infrastructure:DataRoot=<path>.");
        }

        try
        {
            lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var ownerPath = System.IO.Path.Combine(root, OwnerFileName);
            var owner = File.Exists(ownerPath) ? File.ReadAllText(ownerPath).Trim() : "unknown";
            throw new LocalProcessSetupException(
                $"the data folder {root} is in use by another AppHost (pid {owner}); stop that one first, or give this one its own folder with --Infrastructure:DataRoot=<path>.");
        }

        var leftovers = BackingProcesses.Using(root);
        if (leftovers.Count > 0)
        {
            lockFile.Dispose();
            var list = string.Join(", ", leftovers.Select(p => $"{p.Name} (pid {p.Id})"));
            throw new LocalProcessSetupException(
                $"servers from an earlier run still use the data folder {root}: {list}; stop them with 'kill {string.Join(' ', leftovers.Select(p => p.Id))}' and start again.");
        }

        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos())
        {
            if (entry.Name is LockFileName)
            {
                continue;
            }

            if (entry is DirectoryInfo directory)
            {
                directory.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }

        File.WriteAllText(System.IO.Path.Combine(root, OwnerFileName), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        return new ProcessDataRoot(root, lockFile);
    }
}
