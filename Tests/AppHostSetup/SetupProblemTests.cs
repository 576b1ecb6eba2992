using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AspireShop.AppHost.Infrastructure;
using AspireShop.Hosting.Processes;
using Xunit.Abstractions;

namespace Tests.AppHostSetup;

/// <summary>
/// A machine that is not ready (missing binary, busy port, data folder in use or still held by servers of an earlier
/// run, bad setting) gets one line that says what is wrong and how to fix it, and exit code 2: no hang, no stack trace.
/// The AppHost runs as its own process here, exactly as a developer starts it.
/// </summary>
public sealed class SetupProblemTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(60);
    private readonly string _dataRoot = Directory.CreateDirectory(
        Path.Combine(Path.GetTempPath(), "aspireshop-tests", "setup-" + Guid.NewGuid().ToString("N")[..12])).FullName;

    public void Dispose() => Directory.Delete(_dataRoot, recursive: true);

    [Fact]
    public async Task MissingPostgresBinariesNameThePackage()
    {
        var problem = await RunAppHostExpectingSetupProblemAsync("--Infrastructure:PostgresBinDirectory=/nonexistent/bin");
        Assert.Contains("PostgreSQL server", problem);
        Assert.Contains("apt-get install postgresql", problem);
    }

    [Fact]
    public async Task MissingRedisServerNamesThePackage()
    {
        var problem = await RunAppHostExpectingSetupProblemAsync("--Infrastructure:RedisServerPath=/nonexistent/redis-server");
        Assert.Contains("redis-server not found", problem);
        Assert.Contains("apt-get install redis-server", problem);
    }

    [Fact]
    public async Task UnknownModeListsTheValidOnes()
    {
        var problem = await RunAppHostExpectingSetupProblemAsync("--Infrastructure:Mode=kubernetes");
        Assert.Contains("use auto, containers, processes or external", problem);
    }

    [Fact]
    public async Task DashboardPortInUseIsNamed()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;

        var problem = await RunAppHostExpectingSetupProblemAsync(dashboardPort: port);
        Assert.Contains($"port {port}", problem);
        Assert.Contains("already in use", problem);
    }

    [Fact]
    public async Task DataFolderHeldByAnotherAppHostIsLeftAlone()
    {
        var keep = Path.Combine(_dataRoot, "postgres", "PG_VERSION");
        Directory.CreateDirectory(Path.GetDirectoryName(keep)!);
        await File.WriteAllTextAsync(keep, "15");

        // What a running AppHost holds: the folder's lock file, open exclusively.
        await using (new FileStream(Path.Combine(_dataRoot, ".apphost.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            var problem = await RunAppHostExpectingSetupProblemAsync();
            Assert.Contains("in use by another AppHost", problem);
        }

        Assert.True(File.Exists(keep), "the data of the running AppHost must not be touched");
    }

    [Fact]
    public async Task AFolderThatIsNotAnAppHostsIsRefusedAndNotEmptied()
    {
        // A mistyped --Infrastructure:DataRoot pointing at someone's files: a run would empty it.
        var precious = Path.Combine(_dataRoot, "thesis.tex");
        await File.WriteAllTextAsync(precious, "\\documentclass{article}");

        var problem = await RunAppHostExpectingSetupProblemAsync();

        Assert.Contains("not empty and was not made by an AppHost", problem);
        Assert.True(File.Exists(precious), "a folder that is not an AppHost's must not be touched");
        Assert.Equal("thesis.tex", Path.GetFileName(Assert.Single(Directory.GetFileSystemEntries(_dataRoot))));
    }

    [Fact]
    public async Task ServerLeftRunningFromAnEarlierRunIsNamedWithItsPid()
    {
        var keep = Path.Combine(_dataRoot, "cache", "redis.conf");
        Directory.CreateDirectory(Path.GetDirectoryName(keep)!);
        await File.WriteAllTextAsync(keep, "port 1");
        // The owner file the earlier run's AppHost wrote when it claimed the folder.
        await File.WriteAllTextAsync(Path.Combine(_dataRoot, ".apphost.pid"), "1");

        // Stands in for a server whose AppHost was killed: it carries that run's data-folder marker.
        var leftover = new ProcessStartInfo("sleep", ["60"]);
        leftover.Environment[ProcessDataRoot.MarkerVariable] = _dataRoot;
        using var sleeper = Process.Start(leftover)!;
        try
        {
            var problem = await RunAppHostExpectingSetupProblemAsync();
            Assert.Contains("still use the data folder", problem);
            Assert.Contains($"kill {sleeper.Id}", problem);
            Assert.True(File.Exists(keep), "nothing is deleted while an earlier server still uses the folder");
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Fact]
    public void DefaultDataFolderOutOfPostgresReachMovesToTmpButAConfiguredOneIsRefused()
    {
        // A clone under a private home folder, as /root is: as root the AppHost runs PostgreSQL as 'postgres'.
        var home = Path.Combine(_dataRoot, "home");
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var clone = Path.Combine(home, "clone");

        var (path, notice) = ProcessDataRoot.Locate(configured: null, clone);
        if (Environment.UserName != "root")
        {
            // PostgreSQL runs as this user, who owns the folder: nothing moves. What root sees (PostgreSQL as
            // 'postgres', refused by the private folder) can only be shown by a run as root, as CI's.
            output.WriteLine($"Ran as {Environment.UserName}: checked that the data stays in the clone; the move to /tmp (a run as root) was not checked.");
            Assert.Equal(Path.Combine(clone, ".aspireshop", "data"), path);
            Assert.Null(notice);
            return;
        }

        output.WriteLine("Ran as root: checked the move to /tmp and the refusal; that a non-root user's data stays in the clone was not checked.");

        try
        {
            Assert.StartsWith(Path.GetTempPath(), path);
            Assert.DoesNotContain(home, path);
            Assert.True(Directory.Exists(path));
            Assert.Contains(path, notice);
            Assert.Equal(path, ProcessDataRoot.Locate(configured: null, clone).Path); // the same folder on every run
            var fallback = ProcessDataRoot.FallbackFolder(clone);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(fallback));
            Assert.Equal("postgres", OwnerOf(fallback));

            var refused = Assert.Throws<LocalProcessSetupException>(() => ProcessDataRoot.Locate(Path.Combine(home, "data"), clone));
            Assert.Contains("cannot reach", refused.Message);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void AFallbackFolderSomeoneElseCouldHaveMadeIsRefused()
    {
        if (Environment.UserName != "root")
        {
            output.WriteLine($"Ran as {Environment.UserName}: the data never moves to /tmp for this user, so there is nothing to plant; a run as root (CI's) checks it.");
            return;
        }

        var home = Path.Combine(_dataRoot, "private-home");
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var clone = Path.Combine(home, "clone");
        var fallback = ProcessDataRoot.FallbackFolder(clone);
        var elsewhere = Directory.CreateDirectory(Path.Combine(_dataRoot, "someone-elses")).FullName;
        try
        {
            // Another user plants a link at the name this clone's data would get, pointing at a folder of theirs.
            File.CreateSymbolicLink(fallback, elsewhere);
            var linked = Assert.Throws<LocalProcessSetupException>(() => ProcessDataRoot.Locate(configured: null, clone));
            Assert.Contains("symbolic link", linked.Message);
            Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));

            // ... or a real folder, owned by them.
            File.Delete(fallback);
            Directory.CreateDirectory(fallback);
            Chown("nobody", fallback);
            var foreign = Assert.Throws<LocalProcessSetupException>(() => ProcessDataRoot.Locate(configured: null, clone));
            Assert.Contains("belongs to the user 'nobody'", foreign.Message);
            Assert.Empty(Directory.EnumerateFileSystemEntries(fallback));
        }
        finally
        {
            if (File.Exists(fallback) || Directory.Exists(fallback))
            {
                if (new FileInfo(fallback).LinkTarget is not null)
                {
                    File.Delete(fallback);
                }
                else
                {
                    Directory.Delete(fallback, recursive: true);
                }
            }
        }
    }

    private static string OwnerOf(string path) => RunTool("stat", "--format=%U", path).Trim();

    private static void Chown(string user, string path) => RunTool("chown", user, path);

    private static string RunTool(string program, params string[] arguments)
    {
        using var tool = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true })!;
        var printed = tool.StandardOutput.ReadToEnd();
        tool.WaitForExit();
        Assert.True(tool.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited with {tool.ExitCode}");
        return printed;
    }

    [Fact]
    public async Task AStoppedAppHostReturnsOnlyOnceEveryServerItStartedHasExited()
        => await StopAndExpectNoServerLeftAsync(async appHost =>
        {
            // Up: every service answers healthy at the address its launch profile gives it (the site, Catalog.Api, the
            // worker, Ordering.Api), so every resource has been started and the AppHost has finished starting.
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var healthy = await Eventually.UntilAsync(async () =>
            {
                try
                {
                    foreach (var port in new[] { 5100, 5101, 5102, 5103 })
                    {
                        if (!(await probe.GetAsync($"http://localhost:{port}/health")).IsSuccessStatusCode)
                        {
                            return false;
                        }
                    }

                    return true;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            }, up => up || appHost.HasExited, ExitWait, TimeSpan.FromMilliseconds(500));
            Assert.True(healthy, "the shop did not come up");
            var servers = BackingProcesses.Using(_dataRoot).Select(p => p.Name).ToHashSet();
            Assert.True(servers.IsSupersetOf(["postgres", "redis-server", "beam.smp"]), $"the servers are not running: {string.Join(", ", servers)}");
        });

    [Fact]
    public async Task AnAppHostStoppedWhileItStartsReturnsOnlyOnceEveryServerItStartedHasExited()
        => await StopAndExpectNoServerLeftAsync(async appHost =>
        {
            // Stopped while it starts: the first servers run, the services have not answered yet.
            var starting = await Eventually.UntilAsync(
                () => BackingProcesses.Using(_dataRoot).Any(p => p.Name == "postgres"),
                running => running || appHost.HasExited, ExitWait, TimeSpan.FromMilliseconds(50));
            Assert.True(starting, "no server started");
        });

    /// <summary>
    /// Starts the AppHost, waits for <paramref name="moment"/>, stops it as Ctrl+C in scripts/run-shop.sh does (SIGINT
    /// is ignored without a terminal; both stop the host), and expects no server of the run left once it has returned.
    /// </summary>
    private async Task StopAndExpectNoServerLeftAsync(Func<Process, Task> moment)
    {
        using var appHost = StartAppHost();
        var stdout = appHost.StandardOutput.ReadToEndAsync();
        var stderr = appHost.StandardError.ReadToEndAsync();
        try
        {
            await moment(appHost);
            using (var terminate = Process.Start("kill", ["-TERM", appHost.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await terminate.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(ExitWait);
            await appHost.WaitForExitAsync(timeout.Token);
            var left = BackingProcesses.Using(_dataRoot);
            Assert.True(left.Count == 0,
                $"left running when the AppHost returned: {string.Join(", ", left.Select(p => $"{p.Name} ({p.Id})"))}; it printed: {await stdout} {await stderr}");
        }
        finally
        {
            if (!appHost.HasExited)
            {
                appHost.Kill(entireProcessTree: true);
            }

            foreach (var server in BackingProcesses.Using(_dataRoot))
            {
                try
                {
                    Process.GetProcessById(server.Id).Kill();
                }
                catch (ArgumentException)
                {
                    // Gone meanwhile.
                }
            }
        }
    }

    private async Task<string> RunAppHostExpectingSetupProblemAsync(string? argument = null, int? dashboardPort = null)
    {
        using var appHost = StartAppHost(argument, dashboardPort);
        var stdout = appHost.StandardOutput.ReadToEndAsync();
        var stderr = appHost.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ExitWait);
        try
        {
            await appHost.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            appHost.Kill(entireProcessTree: true);
            Assert.Fail($"The AppHost did not exit within {ExitWait.TotalSeconds} s; it printed: {await stdout} {await stderr}");
        }

        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(appHost.ExitCode == 2, $"exit code {appHost.ExitCode}; stderr: {await stderr}; stdout: {await stdout}");
        var line = Assert.Single(lines);
        Assert.StartsWith("AspireShop: ", line);
        Assert.DoesNotContain("   at ", line);
        return line;
    }

    /// <summary>The AppHost as its own process, exactly as a developer starts it, on this test's data folder.</summary>
    private Process StartAppHost(string? argument = null, int? dashboardPort = null)
    {
        var port = dashboardPort ?? LoopbackPorts.Free();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "AppHost.dll"));
        start.ArgumentList.Add("--Infrastructure:Mode=processes");
        start.ArgumentList.Add($"--Infrastructure:DataRoot={_dataRoot}");
        if (argument is not null)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";
        start.Environment["ASPNETCORE_URLS"] = $"http://localhost:{port}";
        start.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://localhost:{LoopbackPorts.Free()}";
        return Process.Start(start)!;
    }
}
