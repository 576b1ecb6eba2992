using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AspireShop.Hosting.Processes;

/// <summary>
/// Runs a short set-up tool (initdb, pg_basebackup, chown) to completion before a server starts, copying its output
/// into the resource's log in the dashboard and failing with the tool's last words when it fails.
/// </summary>
public static class ToolRunner
{
    public static async Task RunAsync(
        string program,
        IEnumerable<string> arguments,
        ILogger? logger,
        IReadOnlyDictionary<string, string>? environment = null,
        string? standardInput = null,
        CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        using var process = Process.Start(startInfo)
            ?? throw new InvalidOperationException($"Could not start {program}.");
        var lastLines = new Queue<string>();
        void Collect(string? line, LogLevel level)
        {
            if (line is null)
            {
                return;
            }

            logger?.Log(level, "{Line}", line);
            lock (lastLines)
            {
                lastLines.Enqueue(line);
                if (lastLines.Count > 5)
                {
                    lastLines.Dequeue();
                }
            }
        }

        process.OutputDataReceived += (_, e) => Collect(e.Data, LogLevel.Information);
        process.ErrorDataReceived += (_, e) => Collect(e.Data, LogLevel.Warning);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }

        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        if (process.ExitCode != 0)
        {
            string tail;
            lock (lastLines)
            {
                tail = string.Join(" | ", lastLines);
            }

            throw new InvalidOperationException(
                $"{Path.GetFileName(program)} {string.Join(' ', startInfo.ArgumentList.Take(3))}... exited with code {process.ExitCode}: {tail}");
        }
    }
}
