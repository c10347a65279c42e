namespace Gateway.Cli;

/// <summary>
/// What gatewayctl reads from its surroundings: environment variables and the working directory. Passed in
/// rather than read globally so tests can run many invocations side by side in one process.
/// </summary>
public sealed record CliEnvironment(Func<string, string?> Variable, string WorkingDirectory)
{
    public const string UrlVariable = "GATEWAY_ADMIN_URL";
    public const string TokenVariable = "GATEWAY_ADMIN_TOKEN";
    public const string TokenFileVariable = "GATEWAY_ADMIN_TOKEN_FILE";

    /// <summary>Where deploy/demo.sh writes the admin token, relative to the repository root.</summary>
    public const string DemoTokenFile = ".demo/secrets/admin-token";

    /// <summary>The demo's gateway configuration, relative to the repository root: its admin URL goes with its token.</summary>
    public const string DemoConfigFile = ".demo/gateway.json";

    public static CliEnvironment OfProcess() => new(Environment.GetEnvironmentVariable, Directory.GetCurrentDirectory());

    /// <summary>The variable's value, or null when it is unset or empty (an empty variable means "not set" to an operator).</summary>
    public string? NonEmpty(string name) => Variable(name) is { Length: > 0 } value ? value : null;
}
