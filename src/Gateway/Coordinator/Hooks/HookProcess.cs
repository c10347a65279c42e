using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Gateway.Coordinator.Hooks;

/// <summary>How one hook command ended: its exit code (null when it was killed or never started), whether the timeout killed it, and the tail of its output.</summary>
public sealed record HookProcessResult(int? ExitCode, bool TimedOut, TimeSpan Duration, string Output, string? StartFailure = null)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut && StartFailure is null;
}

/// <summary>Runs one hook command to its end or its timeout. The seam between deciding about hooks and starting processes.</summary>
public interface IHookProcess
{
    Task<HookProcessResult> RunAsync(string command, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, CancellationToken cancellation);
}

/// <summary>
/// Runs a hook as <c>/bin/sh -c</c> in a session (and process group) of its own, so that a timeout kills everything
/// it started, not just the shell. stdout and stderr are merged in the order written, and only the last
/// <see cref="OutputLimit"/> characters are kept: a chatty hook cannot fill the gateway's memory or its reports.
/// stdin is closed, so a hook that reads it sees end-of-file instead of hanging.
/// </summary>
public sealed partial class ShellHookProcess(TimeProvider time) : IHookProcess
{
    public const int OutputLimit = 4096;

    /// <summary>A hook may leave a background child holding its output open; once the hook has exited this is all the output gets.</summary>
    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(1);

    private const int SigKill = 9;

    public async Task<HookProcessResult> RunAsync(string command, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, CancellationToken cancellation)
    {
        var started = time.GetTimestamp();
        var output = new OutputTail(OutputLimit);
        using var process = new Process { StartInfo = StartInfo(command, environment) };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return new HookProcessResult(null, false, time.GetElapsedTime(started), "", $"could not start /bin/sh: {e.Message}");
        }

        process.StandardInput.Close();
        var readers = Task.WhenAll(CopyAsync(process.StandardOutput, output), CopyAsync(process.StandardError, output));
        var timedOut = false;
        using (var deadline = new CancellationTokenSource(timeout, time))
        using (var either = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellation))
        {
            try
            {
                await process.WaitForExitAsync(either.Token);
            }
            catch (OperationCanceledException)
            {
                KillProcessGroup(process);
                await process.WaitForExitAsync(CancellationToken.None);
                cancellation.ThrowIfCancellationRequested();
                timedOut = true;
            }
        }

        try
        {
            await readers.WaitAsync(OutputGrace, time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            output.Append($"\n[output still open after the hook exited; the rest is not waited for]\n");
        }

        return new HookProcessResult(timedOut ? null : process.ExitCode, timedOut, time.GetElapsedTime(started), output.ToString());
    }

    private static ProcessStartInfo StartInfo(string command, IReadOnlyDictionary<string, string> environment)
    {
        // setsid makes the shell the leader of a new session and process group (it execs in place: same pid), so the
        // group can be killed as one. "exec 2>&1" merges stderr into stdout inside the shell, keeping their order.
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("/bin/sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec 2>&1\n" + command);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return start;
    }

    private static void KillProcessGroup(Process process)
    {
        // The group id is the shell's pid (see StartInfo). Killed before setsid ran, the group does not exist yet:
        // then the process tree is what there is to kill.
        if (KillCall(-process.Id, SigKill) != 0)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    private static async Task CopyAsync(StreamReader reader, OutputTail output)
    {
        var buffer = new char[1024];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            output.Append(buffer.AsSpan(0, read));
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillCall(int pid, int signal);

    /// <summary>The last <c>limit</c> characters written, and how many came before them.</summary>
    private sealed class OutputTail(int limit)
    {
        private readonly StringBuilder _text = new();
        private long _dropped;

        public void Append(ReadOnlySpan<char> text)
        {
            lock (_text)
            {
                _text.Append(text);
                // Trimmed in batches, not on every write, so a long output costs linear time.
                if (_text.Length > 2 * limit)
                {
                    var excess = _text.Length - limit;
                    _text.Remove(0, excess);
                    _dropped += excess;
                }
            }
        }

        public override string ToString()
        {
            lock (_text)
            {
                var excess = Math.Max(0, _text.Length - limit);
                var kept = _text.ToString(excess, _text.Length - excess);
                var dropped = _dropped + excess;
                return dropped == 0 ? kept : $"[{dropped} earlier characters omitted]\n{kept}";
            }
        }
    }
}
