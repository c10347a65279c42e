using System.Runtime.InteropServices;

namespace Gateway.Testing;

/// <summary>SIGSTOP and SIGCONT for a test's child process: frozen, it keeps its sockets but answers nothing.</summary>
public static class ProcessSignals
{
    private const int SigCont = 18, SigStop = 19;

    public static void Stop(int pid) => Send(pid, SigStop);

    public static void Continue(int pid) => Send(pid, SigCont);

    private static void Send(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
