using System.Runtime.Versioning;
using System.Globalization;

namespace AspireShop.AppHost.Infrastructure.Processes;

/// <summary>
/// The one folder under which processes mode keeps every server's data (see <see cref="InfrastructureSettings.DataRoot"/>).
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

    /// <summary>Releases the lock when the application is disposed (a test host may start another one in-process).</summary>
    public void Dispose() => _lock.Dispose();

    internal static ProcessDataRoot Claim(IDistributedApplicationBuilder builder, InfrastructureSettings settings)
    {
        var repositoryRoot = System.IO.Path.GetDirectoryName(builder.AppHostDirectory.TrimEnd('/')) ?? builder.AppHostDirectory;
        var root = System.IO.Path.GetFullPath(settings.DataRoot, repositoryRoot);
        try
        {
            Directory.CreateDirectory(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InfrastructureSetupException(
                $"cannot create the data folder {root} ({e.Message}); choose a writable one with --Infrastructure:DataRoot=<path>.");
        }

        FileStream lockFile;
        var lockPath = System.IO.Path.Combine(root, LockFileName);
        try
        {
            lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var ownerPath = System.IO.Path.Combine(root, OwnerFileName);
            var owner = File.Exists(ownerPath) ? File.ReadAllText(ownerPath).Trim() : "unknown";
            throw new InfrastructureSetupException(
                $"the data folder {root} is in use by another AppHost (pid {owner}); stop that one first, or give this one its own folder with --Infrastructure:DataRoot=<path>.");
        }

        var leftovers = BackingProcesses.Using(root);
        if (leftovers.Count > 0)
        {
            lockFile.Dispose();
            var list = string.Join(", ", leftovers.Select(p => $"{p.Name} (pid {p.Id})"));
            throw new InfrastructureSetupException(
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
