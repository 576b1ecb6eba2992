using System.Runtime.Versioning;
using AspireShop.Hosting.Processes;

namespace Tests.Unit.AppHost;

[SupportedOSPlatform("linux")]
public sealed class PrivateFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("private-file-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ASecretFileIsCreatedOwnerOnlyEvenWhereAWorldReadableOneWas()
    {
        var path = Path.Combine(_folder, "redis.conf");
        await File.WriteAllTextAsync(path, "requirepass old");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await PrivateFile.WriteAllLinesAsync(path, ["port 1", "requirepass new"], CancellationToken.None);

        Assert.Equal(PrivateFile.OwnerOnly, File.GetUnixFileMode(path));
        Assert.Equal("port 1\nrequirepass new\n", await File.ReadAllTextAsync(path));
    }
}
