using System.Runtime.Versioning;
using System.Text;

namespace AspireShop.Hosting.Processes;

/// <summary>A running process that carries a data root's marker in its environment.</summary>
public sealed record BackingProcess(int Id, string Name);

/// <summary>
/// Finds the servers (and their children) that processes mode started for one data root: by the
/// <see cref="ProcessDataRoot.MarkerVariable"/> in their environment, or by the data root on their command line
/// (a server that rewrites its process title may overwrite its environment). Reads /proc, so Linux only.
/// </summary>
[UnsupportedOSPlatform("windows")]
public static class BackingProcesses
{
    public static IReadOnlyList<BackingProcess> Using(string dataRoot)
    {
        var marker = Encoding.UTF8.GetBytes($"{ProcessDataRoot.MarkerVariable}={dataRoot}\0");
        var pathInArguments = Encoding.UTF8.GetBytes(dataRoot + "/");
        var found = new List<BackingProcess>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var environment = File.ReadAllBytes(Path.Combine(directory, "environ"));
                var commandLine = File.ReadAllBytes(Path.Combine(directory, "cmdline"));
                if (environment.AsSpan().IndexOf(marker) >= 0 || commandLine.AsSpan().IndexOf(pathInArguments) >= 0)
                {
                    found.Add(new BackingProcess(pid, File.ReadAllText(Path.Combine(directory, "comm")).Trim()));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process exited while we looked, or belongs to someone we may not inspect.
            }
        }

        return found;
    }
}
