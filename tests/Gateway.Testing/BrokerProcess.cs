using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Gateway.Testing;

/// <summary>
/// A real broker (the sample service, src/Broker) running as a child process on loopback, so tests exercise the
/// same binary, start-up and crash behaviour as production. Built by building src/Broker (the Broker.Tests project
/// references it; other test projects must make sure it is built in the same configuration).
/// </summary>
/// <example>
/// <code>
/// await using var broker = new BrokerProcess("a1", FreePort.Next(), connectionString, filestorePath);
/// await broker.StartAsync();          // returns once GET /healthz answers 200
/// using var client = new HttpClient { BaseAddress = new Uri(broker.Url) };
/// broker.Kill();                      // SIGKILL, like a crashed host
/// </code>
/// </example>
public sealed class BrokerProcess : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly Lazy<string> BrokerDll = new(LocateBrokerDll);

    private readonly string _connectionString;
    private readonly string _filestorePath;
    private readonly StringBuilder _standardOutput = new();
    private readonly StringBuilder _standardError = new();
    private readonly HttpClient _healthClient = new() { Timeout = TimeSpan.FromSeconds(1) };
    private Process? _process;

    /// <param name="placement">Where it runs and listens: loopback by default, or a site's network namespace.</param>
    public BrokerProcess(string instanceId, int port, string connectionString, string filestorePath, NetworkPlacement? placement = null)
    {
        InstanceId = instanceId;
        Port = port;
        _connectionString = connectionString;
        _filestorePath = filestorePath;
        Placement = placement ?? NetworkPlacement.Loopback;
    }

    public string InstanceId { get; }
    public int Port { get; }
    public NetworkPlacement Placement { get; }
    public string Url => $"http://{Placement.Address}:{Port}";

    /// <summary>Path of the Broker.dll these tests run: src/Broker/bin/{the tests' configuration}/{tfm}/Broker.dll.</summary>
    public static string DllPath => BrokerDll.Value;

    /// <summary>Everything the process wrote to stdout so far (its log), across restarts.</summary>
    public string StandardOutput => Snapshot(_standardOutput);

    /// <summary>Everything the process wrote to stderr so far, across restarts.</summary>
    public string StandardError => Snapshot(_standardError);

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the process and waits (bounded by <see cref="StartTimeout"/>) until GET /healthz answers 200.</summary>
    public async Task StartAsync()
    {
        Launch();
        await WaitUntilHealthyAsync(StartTimeout);
    }

    /// <summary>Starts the process without waiting for it; for tests of start-up itself. Can start again after <see cref="Kill"/>.</summary>
    public void Launch()
    {
        RealParts.Starting($"broker process {InstanceId}");
        if (IsRunning)
        {
            throw new InvalidOperationException($"broker {InstanceId} is already running");
        }

        _process?.Dispose();
        _process = new Process { StartInfo = CreateStartInfo(), EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, line) => Append(_standardOutput, line.Data);
        _process.ErrorDataReceived += (_, line) => Append(_standardError, line.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Polls /healthz until it answers 200; fails with the process's output if it exits or the time runs out.</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (!IsRunning)
            {
                throw new InvalidOperationException(Describe($"exited with code {_process?.ExitCode} before becoming healthy"));
            }

            if (await IsHealthyAsync())
            {
                return;
            }

            await Task.Delay(PollInterval);
        }

        throw new TimeoutException(Describe($"was not healthy within {timeout.TotalSeconds:0} s"));
    }

    /// <summary>True when GET /healthz answers 200 right now.</summary>
    public async Task<bool> IsHealthyAsync()
    {
        try
        {
            using var response = await _healthClient.GetAsync($"{Url}/healthz");
            return response.IsSuccessStatusCode;
        }
        catch (Exception unreachable) when (unreachable is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>Waits for the process to exit by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException($"broker {InstanceId} was never launched");
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException(Describe($"did not exit within {timeout.TotalSeconds:0} s"));
        }

        return process.ExitCode;
    }

    /// <summary>SIGKILL, no shutdown hooks: what a crashed host or kill -9 looks like to the rest of the system.</summary>
    public void Kill()
    {
        if (IsRunning)
        {
            _process!.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <summary>SIGSTOP: the process keeps its sockets but answers nothing, like a host frozen or cut off for a while.</summary>
    public void Freeze() => Signal(SigStop);

    /// <summary>SIGCONT after <see cref="Freeze"/>.</summary>
    public void Thaw() => Signal(SigCont);

    private const int SigCont = 18, SigStop = 19;

    private void Signal(int signal)
    {
        if (IsRunning && kill(_process!.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>Kills the process if it still runs. Safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        Kill();
        if (_process is not null)
        {
            // Drains the asynchronous stdout/stderr readers so no callback outlives the test.
            await _process.WaitForExitAsync();
            _process.Dispose();
            _process = null;
        }

        _healthClient.Dispose();
    }

    private ProcessStartInfo CreateStartInfo()
    {
        // DOTNET_HOST_PATH is set by `dotnet test` to the muxer running the tests; fall back to PATH.
        // In a namespace, `ip netns exec` execs the muxer in place: the process id (kill, SIGSTOP) stays the broker's.
        var (fileName, arguments) = Placement.Command(
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet",
            [DllPath, "--urls", Url, $"--Broker:InstanceId={InstanceId}", $"--Broker:FilestorePath={_filestorePath}"]);
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Settings from the developer's shell must not silently reconfigure the broker under test.
        foreach (var inherited in startInfo.Environment.Keys.Where(key => key.StartsWith("Broker__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            startInfo.Environment.Remove(inherited);
        }

        // Through the environment, as deploy/demo.sh does, so a password never shows in `ps`.
        startInfo.Environment["Broker__ConnectionString"] = _connectionString;
        return startInfo;
    }

    private string Describe(string what) =>
        $"broker {InstanceId} at {Url} {what}.\n--- stderr ---\n{StandardError}\n--- stdout ---\n{StandardOutput}";

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    /// <summary>
    /// Finds src/Broker's build output for the configuration and target framework these tests were built with,
    /// read from this assembly's own location (…/bin/{configuration}/{tfm}/).
    /// </summary>
    private static string LocateBrokerDll()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory);
        var targetFramework = testOutput.Name;
        var configuration = testOutput.Parent?.Name
            ?? throw new InvalidOperationException($"unexpected test output directory {testOutput.FullName}");

        var repositoryRoot = testOutput;
        while (repositoryRoot is not null && !File.Exists(Path.Combine(repositoryRoot.FullName, "Gateway.sln")))
        {
            repositoryRoot = repositoryRoot.Parent;
        }

        if (repositoryRoot is null)
        {
            throw new InvalidOperationException($"no Gateway.sln above {testOutput.FullName}");
        }

        var dll = Path.Combine(repositoryRoot.FullName, "src", "Broker", "bin", configuration, targetFramework, "Broker.dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"Broker.dll not found; build it with: dotnet build src/Broker -c {configuration}", dll);
    }
}
