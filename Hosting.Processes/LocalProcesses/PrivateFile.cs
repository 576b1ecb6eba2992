using System.Runtime.Versioning;
using System.Text;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// Writes a file that holds a secret (a password, a config with one) readable and writable by its owner only from
/// the moment it exists: creating it with the default mode and narrowing it afterwards leaves a moment in which any
/// local user can open it, and an open handle keeps reading after the mode changes.
/// </summary>
[UnsupportedOSPlatform("windows")]
public static class PrivateFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static async Task WriteAllTextAsync(string path, string contents, CancellationToken cancellationToken)
    {
        // A file left by an earlier run keeps the mode it was created with: start from nothing.
        File.Delete(path);
        await using var file = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = OwnerOnly,
        });
        await file.WriteAsync(Encoding.UTF8.GetBytes(contents), cancellationToken);
    }

    public static Task WriteAllLinesAsync(string path, IEnumerable<string> lines, CancellationToken cancellationToken)
        => WriteAllTextAsync(path, string.Concat(lines.Select(line => line + "\n")), cancellationToken);
}
