using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Testing;

namespace Gateway.Tests.Observability;

/// <summary>
/// A real Prometheus on a free loopback port with its own temporary storage, scraping one target every second and
/// evaluating the given rule file every second. Queried through its HTTP API, as Grafana queries it.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _directory;
    private readonly StringBuilder _output;
    private readonly HttpClient _api;

    private PrometheusServer(Process process, DirectoryInfo directory, StringBuilder output, int port)
    {
        _process = process;
        _directory = directory;
        _output = output;
        _api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public static async Task<PrometheusServer> StartAsync(string scrapeTarget, string ruleFile)
    {
        PrometheusTools.RequireInstalled();
        var directory = Directory.CreateTempSubdirectory("prometheus-test-");
        var config = Path.Combine(directory.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - "{ruleFile}"
            scrape_configs:
              - job_name: gateway
                static_configs:
                  - targets: ["{scrapeTarget}"]
            """);

        var port = FreePort.Next();
        var startInfo = new ProcessStartInfo(PrometheusTools.Server)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory.FullName, "data")}",
                     $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
                 })
        {
            startInfo.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        var process = Process.Start(startInfo)!;
        process.OutputDataReceived += (_, line) => Append(output, line.Data);
        process.ErrorDataReceived += (_, line) => Append(output, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new PrometheusServer(process, directory, output, port);
        await server.WaitUntilAsync(server.IsReadyAsync, TimeSpan.FromSeconds(30), "Prometheus to be ready");
        return server;
    }

    /// <summary>The API's answer to an instant query: {"status": "success", "data": ...} or {"status": "error", "error": ...}.</summary>
    public async Task<JsonElement> QueryAsync(string promql)
    {
        using var response = await _api.GetAsync($"/api/v1/query?query={Uri.EscapeDataString(promql)}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>The series an instant query returns; fails the test when the query is not valid.</summary>
    public async Task<IReadOnlyList<JsonElement>> ResultAsync(string promql)
    {
        var answer = await QueryAsync(promql);
        Assert.True(answer.GetProperty("status").GetString() == "success", $"query {promql} failed: {answer}");
        var data = answer.GetProperty("data");
        return data.GetProperty("resultType").GetString() is "vector" or "matrix"
            ? data.GetProperty("result").EnumerateArray().ToList()
            : [data.GetProperty("result")];
    }

    /// <summary>Every loaded rule: name, query, health ("ok", "err", "unknown" before its first evaluation) and last error.</summary>
    public async Task<IReadOnlyList<JsonElement>> RulesAsync()
    {
        var answer = JsonDocument.Parse(await _api.GetStringAsync("/api/v1/rules")).RootElement.Clone();
        return answer.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(group => group.GetProperty("rules").EnumerateArray())
            .ToList();
    }

    /// <summary>Polls until the condition holds; fails with Prometheus' own output after the limit.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (_process.HasExited || stopwatch.Elapsed > limit)
            {
                Assert.Fail($"gave up waiting for {what} after {stopwatch.Elapsed.TotalSeconds:0.#} s; Prometheus {(_process.HasExited ? $"exited {_process.ExitCode}" : "is running")}:\n{Output}");
            }

            await Task.Delay(200);
        }
    }

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

    private async Task<bool> IsReadyAsync()
    {
        try
        {
            using var response = await _api.GetAsync("/-/ready");
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _api.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _directory.Delete(recursive: true);
    }
}
