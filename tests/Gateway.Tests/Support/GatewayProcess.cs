using System.Diagnostics;
using System.Text;

namespace Gateway.Tests.Support;

/// <summary>
/// The gateway as a real child process (`dotnet Gateway.dll --config file`, the build copied beside the tests), for
/// tests of what survives a kill -9: nothing in the test process can tidy up after it.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    private GatewayProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Its stdout and stderr so far (the log), for assertion messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static GatewayProcess Start(string configFile)
    {
        // DOTNET_HOST_PATH is set by `dotnet test` to the muxer running the tests; fall back to PATH.
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Gateway.dll"));
        startInfo.ArgumentList.Add("--config");
        startInfo.ArgumentList.Add(configFile);
        // Settings from the developer's shell must not silently reconfigure the gateway under test.
        foreach (var inherited in startInfo.Environment.Keys.Where(key => key.StartsWith("Gateway__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            startInfo.Environment.Remove(inherited);
        }

        var gateway = new GatewayProcess(new Process { StartInfo = startInfo });
        gateway._process.OutputDataReceived += (_, line) => gateway.Append(line.Data);
        gateway._process.ErrorDataReceived += (_, line) => gateway.Append(line.Data);
        gateway._process.Start();
        gateway._process.BeginOutputReadLine();
        gateway._process.BeginErrorReadLine();
        return gateway;
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly as when the host dies.</summary>
    public void KillHard()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public async ValueTask DisposeAsync()
    {
        KillHard();
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
