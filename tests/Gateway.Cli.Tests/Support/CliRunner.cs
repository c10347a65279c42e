using Gateway.Cli;

namespace Gateway.Cli.Tests.Support;

/// <summary>What one run of gatewayctl printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// Runs gatewayctl's real entry point in-process with captured output and an environment of the test's own
/// (no process-wide variables, so tests can run side by side).
/// </summary>
public sealed class CliRunner(IReadOnlyDictionary<string, string>? variables = null, string? workingDirectory = null)
{
    private readonly CliEnvironment _environment = new(
        name => variables is not null && variables.TryGetValue(name, out var value) ? value : null,
        workingDirectory ?? Path.GetTempPath());

    /// <summary>A CLI pointed at a gateway through the environment, as an operator's shell would be.</summary>
    public static CliRunner For(string adminUrl, string token) =>
        new(new Dictionary<string, string> { [CliEnvironment.UrlVariable] = adminUrl, [CliEnvironment.TokenVariable] = token });

    public async Task<CliResult> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = await Gatewayctl.RunAsync(args, stdout, stderr, _environment);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }
}
