using System.Diagnostics;

namespace Gateway.Testing;

/// <summary>Runs a short-lived command to completion and fails loudly, with its output, when it exits non-zero.</summary>
public static class ProcessRunner
{
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        RealParts.Starting($"the process {fileName}");
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

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', startInfo.ArgumentList)} did not finish in time");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{fileName} {string.Join(' ', startInfo.ArgumentList)} exited {process.ExitCode}: {await stderr}{await stdout}");
        }

        return await stdout;
    }

    /// <summary>PostgreSQL refuses to run as root, so its tools run as the postgres user.</summary>
    public static Task<string> RunAsPostgresAsync(string tool, params string[] arguments) =>
        RunAsPostgresAsync(NetworkPlacement.Loopback, tool, arguments);

    /// <summary>A PostgreSQL tool as the postgres user, in <paramref name="placement"/>'s network namespace (a server it starts stays there).</summary>
    public static Task<string> RunAsPostgresAsync(NetworkPlacement placement, string tool, params string[] arguments)
    {
        var (fileName, wrapped) = placement.Command("runuser", ["-u", "postgres", "--", Path.Combine(PostgresTools.BinDirectory, tool), .. arguments]);
        return RunAsync(fileName, wrapped);
    }
}
