using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace AspireShop.AppHost.Drills;

public static class FreezeDrill
{
    /// <summary>
    /// A dashboard command on a server run as a local process: stop its whole process tree with SIGSTOP for N seconds,
    /// then SIGCONT. A frozen server keeps its sockets open but answers nothing, which is harder on clients than a
    /// clean stop (no connection reset tells them; only their timeouts and heartbeats do).
    /// </summary>
    public static IResourceBuilder<T> WithFreezeDrill<T>(this IResourceBuilder<T> server, string whatToWatch) where T : ExecutableResource
        => server.WithCommand("drill-freeze", "Drill: freeze for N seconds", async context =>
        {
            if (context.ProcessId() is not { } pid)
            {
                return CommandResults.Failure($"{context.ResourceName} has no running process to freeze.");
            }

            var seconds = context.Arguments.Get("seconds");
            var tree = await ProcessTreeAsync(pid);
            await SignalAsync("STOP", tree);
            context.Logger.LogWarning("Drill: froze {Resource} (pids {Pids}) with SIGSTOP for {Seconds} s.", context.ResourceName, string.Join(' ', tree), seconds);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), context.CancellationToken);
            }
            finally
            {
                // Whatever happens to the command, the server must not stay frozen.
                await SignalAsync("CONT", tree);
                context.Logger.LogWarning("Drill: thawed {Resource} with SIGCONT.", context.ResourceName);
            }

            return CommandResults.Success($"Froze {tree.Count} processes (pid {pid} and its children) for {seconds} s, then let them go on.");
        }, new CommandOptions
        {
            Description = "SIGSTOP the server's processes for N seconds, then SIGCONT.",
            ConfirmationMessage = $"Freeze this server (SIGSTOP) for the seconds given, then let it go on (SIGCONT)? {whatToWatch}",
            Arguments = [DrillArguments.Seconds(15, "How long the server stays frozen.")],
            ValidateArguments = DrillArguments.Within(("seconds", 1, 300)),
            IconName = "Pause",
            UpdateState = DrillArguments.WhileRunning,
        });

    /// <summary>The process and every descendant (a server script's runtime, its port helpers), read from <c>ps</c> (Linux and macOS alike).</summary>
    private static async Task<List<int>> ProcessTreeAsync(int root)
    {
        var parents = (await RunAsync("ps", "-A", "-o", "pid=,ppid=")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length == 2)
            .Select(fields => (Pid: int.Parse(fields[0], CultureInfo.InvariantCulture), Parent: int.Parse(fields[1], CultureInfo.InvariantCulture)))
            .ToLookup(p => p.Parent, p => p.Pid);
        var tree = new List<int> { root };
        for (var i = 0; i < tree.Count; i++)
        {
            tree.AddRange(parents[tree[i]]);
        }

        return tree;
    }

    private static Task SignalAsync(string signal, List<int> pids)
        => RunAsync("kill", ["-s", signal, .. pids.Select(pid => pid.ToString(CultureInfo.InvariantCulture))]);

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true })
            ?? throw new InvalidOperationException($"{program} did not start.");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }
}
