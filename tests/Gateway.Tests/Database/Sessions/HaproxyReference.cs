using System.Diagnostics;
using Gateway.Testing;

namespace Gateway.Tests.Database.Sessions;

/// <summary>HAProxy in TCP mode in front of one node: the cost of a plain TCP proxy on the same cores, for comparison.</summary>
public sealed class HaproxyReference : IDisposable
{
    public const string Binary = "/usr/sbin/haproxy";

    private readonly Process _process;
    private readonly string _directory;

    private HaproxyReference(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static HaproxyReference? StartIfInstalled(int nodePort)
    {
        if (!File.Exists(Binary))
        {
            return null;
        }

        var directory = Directory.CreateTempSubdirectory("haproxy-pg-").FullName;
        var port = FreePort.Next();
        var config = Path.Combine(directory, "haproxy.cfg");
        File.WriteAllText(config, $"""
            global
                nbthread 2
                maxconn 4096
            defaults
                mode tcp
                timeout connect 5s
                timeout client 120s
                timeout server 120s
            frontend pg
                bind 127.0.0.1:{port}
                default_backend node
            backend node
                server node 127.0.0.1:{nodePort}

            """);
        var process = Process.Start(new ProcessStartInfo(Binary, ["-db", "-f", config]) { UseShellExecute = false, RedirectStandardError = true })!;
        WaitUntilListening(process, port);
        return new HaproxyReference(process, directory, port);
    }

    private static void WaitUntilListening(Process process, int port)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"haproxy exited {process.ExitCode}: {process.StandardError.ReadToEnd()}");
            }

            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                probe.Connect("127.0.0.1", port);
                return;
            }
            catch (System.Net.Sockets.SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new TimeoutException($"haproxy did not listen on {port} within 5 s");
    }

    public void Dispose()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
