using Gateway.Testing;

namespace Gateway.Tests.Observability;

/// <summary>Debian's prometheus package: the server and promtool, installed by tests/run.sh (deploy/prereqs.sh prometheus).</summary>
public static class PrometheusTools
{
    public const string Server = "/usr/bin/prometheus";
    public const string Promtool = "/usr/bin/promtool";

    /// <summary>Fails the test with the fix when the package is missing, rather than skipping: these checks are part of "done".</summary>
    public static void RequireInstalled()
    {
        RealParts.Starting("Prometheus");
        foreach (var binary in new[] { Server, Promtool })
        {
            if (!File.Exists(binary))
            {
                Assert.Fail($"{binary} is missing: install Prometheus with 'deploy/prereqs.sh prometheus' (tests/run.sh does it)");
            }
        }
    }

    public static Task<string> RunPromtoolAsync(params string[] arguments)
    {
        RequireInstalled();
        // A bound against a hang, not a speed check: the rule tests evaluate days of samples (backup ages) and took
        // 46 to 55 s on the loaded 2-core test machine, close to the runner's default of 60 s.
        return ProcessRunner.RunAsync(Promtool, arguments, TimeSpan.FromMinutes(3));
    }

    /// <summary><c>promtool check metrics</c> reads the exposition from standard input.</summary>
    public static async Task<string> CheckMetricsAsync(string exposition)
    {
        RequireInstalled();
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, exposition);
            return await ProcessRunner.RunAsync("/bin/sh", ["-c", $"exec {Promtool} check metrics < \"$1\" 2>&1", "sh", file]);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
