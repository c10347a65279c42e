using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Coordinator.Admin;
using Gateway.Testing;

namespace Gateway.Tests.Support;

/// <summary>
/// The gateway as its own process (<c>dotnet Gateway.dll --config file</c>, the build these tests reference), so a
/// test can kill it with SIGKILL, as a crashed host would, and start it again on the same configuration and state
/// directory. Its output goes to a log file, appended across restarts. With a placement it runs inside that network
/// namespace (behind `ip netns exec`) and is reached at the placement's address.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly string _configFile;
    private readonly NetworkPlacement _placement;
    private Process? _process;

    public GatewayProcess(GatewaySettings settings, string configFile, string logFile, NetworkPlacement? placement = null)
    {
        _configFile = configFile;
        _placement = placement ?? NetworkPlacement.Loopback;
        LogFile = logFile;
        Public = new HttpClient { BaseAddress = new Uri($"http://{_placement.Address}:{settings.PublicPort}"), Timeout = TimeSpan.FromSeconds(30) };
        Admin = new HttpClient { BaseAddress = new Uri($"http://{_placement.Address}:{settings.AdminPort}"), Timeout = TimeSpan.FromSeconds(60) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.AdminToken);
    }

    public string LogFile { get; }
    public HttpClient Public { get; }
    public HttpClient Admin { get; }
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts a gateway process on a configuration file, its output logged beside the settings' other files.</summary>
    public static GatewayProcess StartNew(GatewaySettings settings, string configFile, NetworkPlacement? placement = null)
    {
        var gateway = new GatewayProcess(settings, configFile, Path.Combine(settings.Root, $"gateway-{Guid.NewGuid():N}.log"), placement);
        gateway.Start();
        return gateway;
    }

    public bool HasExited => _process is { HasExited: true };

    /// <summary>Everything the gateway wrote to stdout and stderr so far, across restarts.</summary>
    public string Output => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    /// <summary>The last lines of the gateway's log, for failure messages.</summary>
    public string LogTail(int lines = 60) => File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(lines)) : "(no log)";

    public void Start()
    {
        RealParts.Starting("a gateway process");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var dll = Path.Combine(AppContext.BaseDirectory, "Gateway.dll");
        // exec: the process started is the gateway itself, so Kill() is a SIGKILL of the gateway and nothing else
        // (`ip netns exec` execs too).
        var (fileName, arguments) = _placement.Command("/bin/sh",
            ["-c", "exec \"$0\" \"$1\" --config \"$2\" >> \"$3\" 2>&1", dotnet, dll, _configFile, LogFile]);
        var start = new ProcessStartInfo(fileName) { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Settings from the developer's shell must not reconfigure the gateway under test.
        foreach (var inherited in start.Environment.Keys.Where(key => key.StartsWith("Gateway__", StringComparison.OrdinalIgnoreCase) || key.StartsWith("GATEWAY_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(inherited);
        }

        _process = Process.Start(start);
    }

    /// <summary>SIGKILL: no shutdown, no flush, no cleanup; whatever the gateway had persisted is all there is.</summary>
    public void Kill()
    {
        if (IsRunning)
        {
            _process!.Kill();
            _process.WaitForExit();
        }
    }

    /// <summary>Waits (bounded) for the gateway to exit by itself, e.g. on a bad configuration, and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process!.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as an operator stops it, then waits until it has exited and its output is in the log; returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (IsRunning)
        {
            await SignalAsync("TERM");
        }

        return await WaitForExitAsync();
    }

    /// <summary>Sends a signal by name (TERM, HUP) with kill(1), as an operator would.</summary>
    public Task SignalAsync(string signal) => ProcessRunner.RunAsync("kill", [$"-{signal}", _process!.Id.ToString()]);

    /// <summary>The admin status, once the admin listener answers (bounded).</summary>
    public async Task<GatewayStatus> StatusAsync(TimeSpan? within = null)
    {
        var giveUpAt = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                return JsonSerializer.Deserialize<GatewayStatus>(await Admin.GetStringAsync("/admin/status"), AdminRequests.Json)!;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < giveUpAt && IsRunning)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Polls the status until <paramref name="condition"/> holds; fails with the last status and the log when it does not within the bound.</summary>
    public async Task<GatewayStatus> WaitForAsync(Func<GatewayStatus, bool> condition, string what, TimeSpan within)
    {
        var giveUpAt = DateTime.UtcNow + within;
        while (true)
        {
            var status = await StatusAsync(within);
            if (condition(status))
            {
                return status;
            }

            if (DateTime.UtcNow > giveUpAt)
            {
                throw new TimeoutException($"gateway: not {what} within {within.TotalSeconds:0} s; status: {JsonSerializer.Serialize(status, AdminRequests.Json)}\n--- log ---\n{LogTail()}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        Public.Dispose();
        Admin.Dispose();
        await Task.CompletedTask;
    }
}
