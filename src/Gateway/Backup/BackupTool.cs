using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Gateway.Backup;

public sealed record ToolResult(string Command, int ExitCode, IReadOnlyList<string> Output, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>What went wrong in the tool's own words: its ERROR/FATAL lines, or the last lines it wrote.</summary>
    public string Failure()
    {
        var errors = Output.Where(line => line.Contains("ERROR", StringComparison.Ordinal) || line.StartsWith("Fatal", StringComparison.OrdinalIgnoreCase)
            || line.Contains("FATAL", StringComparison.Ordinal) || line.Contains("no space left", StringComparison.OrdinalIgnoreCase)).Distinct().TakeLast(4).ToList();
        var lines = errors.Count > 0 ? errors : Output.TakeLast(4).ToList();
        return $"`{Command}` exited {ExitCode}: {string.Join(" | ", lines.Select(line => line.Trim()))}";
    }
}

public sealed class ToolFailedException(ToolResult result) : Exception(result.Failure())
{
    public ToolResult Result { get; } = result;
}

/// <summary>One run of a backup engine (pgbackrest, restic, cp, pg_ctl): what to start, as whom, where, with what environment.</summary>
public sealed record ToolCommand(string Executable, IReadOnlyList<string> Arguments)
{
    public string? OsUser { get; init; }

    public string? WorkingDirectory { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    public override string ToString() => string.Join(' ', new[] { Executable }.Concat(Arguments).Select(Quote));

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "/.-_=:,%@+".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";
}

/// <summary>The seam between deciding what a backup runs and starting processes.</summary>
public interface IBackupTool
{
    /// <param name="onLine">Each line of standard output as it arrives (progress); standard error is kept for the result only.</param>
    /// <param name="onStarted">The process and its group, to persist so a restarted gateway can stop one a crash left behind.</param>
    Task<ToolResult> RunAsync(ToolCommand command, CancellationToken cancellation, Action<string>? onLine = null, Action<ToolProcess>? onStarted = null);
}

/// <summary>
/// Runs a tool in a session (and process group) of its own, through runuser when it must run as another user: a
/// cancelled run kills the whole group, and a gateway killed mid-backup leaves a group its successor can find and
/// stop. Output: the last <see cref="KeptLines"/> lines, stdout and stderr together.
/// </summary>
public sealed partial class ProcessBackupTool(TimeProvider time) : IBackupTool
{
    public const int KeptLines = 200;
    private const int SigKill = 9;

    public async Task<ToolResult> RunAsync(ToolCommand command, CancellationToken cancellation, Action<string>? onLine = null, Action<ToolProcess>? onStarted = null)
    {
        var started = time.GetTimestamp();
        var output = new Queue<string>();
        using var process = new Process { StartInfo = StartInfo(command) };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return new ToolResult(command.ToString(), -1, [$"ERROR: could not start setsid: {e.Message}"], time.GetElapsedTime(started));
        }

        process.StandardInput.Close();
        onStarted?.Invoke(new ToolProcess(process.Id, StartTicksOf(process.Id) ?? 0, command.ToString()));
        var readers = Task.WhenAll(
            ReadLinesAsync(process.StandardOutput, line => Keep(output, line), onLine),
            ReadLinesAsync(process.StandardError, line => Keep(output, line), null));
        try
        {
            await process.WaitForExitAsync(cancellation);
        }
        catch (OperationCanceledException)
        {
            KillGroup(process.Id);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw;
        }

        await readers;
        lock (output)
        {
            return new ToolResult(command.ToString(), process.ExitCode, output.ToList(), time.GetElapsedTime(started));
        }
    }

    /// <summary>Kills a process group a previous gateway left running, if it is still the same one (same start time).</summary>
    public static bool KillLeftover(ToolProcess leftover)
    {
        if (StartTicksOf(leftover.ProcessGroup) is not { } ticks || ticks != leftover.StartTicks)
        {
            return false;
        }

        return KillGroup(leftover.ProcessGroup);
    }

    private static bool KillGroup(int group) => KillCall(-group, SigKill) == 0;

    private static ProcessStartInfo StartInfo(ToolCommand command)
    {
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = command.WorkingDirectory ?? "/",
        };
        if (command.OsUser is { Length: > 0 } user && user != System.Environment.UserName)
        {
            // runuser keeps the environment (PGPASSWORD, the tools' settings); it needs root, which RunAs checks first.
            foreach (var argument in new[] { "runuser", "-u", user, "--" })
            {
                start.ArgumentList.Add(argument);
            }
        }

        start.ArgumentList.Add(command.Executable);
        foreach (var argument in command.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in command.Environment)
        {
            start.Environment[name] = value;
        }

        return start;
    }

    private static void Keep(Queue<string> output, string line)
    {
        lock (output)
        {
            output.Enqueue(line);
            while (output.Count > KeptLines)
            {
                output.Dequeue();
            }
        }
    }

    private static async Task ReadLinesAsync(StreamReader reader, Action<string> keep, Action<string>? onLine)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            keep(line);
            onLine?.Invoke(line);
        }
    }

    /// <summary>Field 22 of /proc/&lt;pid&gt;/stat: when the process started, which a recycled pid does not share.</summary>
    private static long? StartTicksOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillCall(int pid, int signal);
}
