namespace Gateway.Cli.Connection;

/// <summary>Where the admin API is and the token to present there. The token is never printed, not even in errors.</summary>
public sealed class ConnectionSettings
{
    private ConnectionSettings(Uri baseUrl, string token)
    {
        BaseUrl = baseUrl;
        Token = token;
    }

    public Uri BaseUrl { get; }
    public string Token { get; }

    /// <summary>The settings, or the message and exit code saying why they cannot be had.</summary>
    public static (ConnectionSettings? Settings, CliError? Error) Resolve(string url, string? tokenFileOption, CliEnvironment environment)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUrl) || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
        {
            return (null, new CliError(ExitCodes.Usage, $"--url '{url}' is not an http:// or https:// URL"));
        }

        // Request paths are resolved relative to the base: "http://host/gw" must mean "http://host/gw/admin/...", not "http://host/admin/...".
        if (!baseUrl.AbsolutePath.EndsWith('/'))
        {
            baseUrl = new UriBuilder(baseUrl) { Path = baseUrl.AbsolutePath + "/" }.Uri;
        }

        var (token, error) = ReadToken(tokenFileOption, environment);
        return token is null ? (null, error) : (new ConnectionSettings(baseUrl, token), null);
    }

    /// <summary>
    /// The token by precedence: --token-file given on the command line; GATEWAY_ADMIN_TOKEN (the token itself, as the
    /// gateway also lets it win over a file); GATEWAY_ADMIN_TOKEN_FILE; the demo's token file under the working directory.
    /// </summary>
    private static (string? Token, CliError? Error) ReadToken(string? tokenFileOption, CliEnvironment environment)
    {
        if (tokenFileOption is not null)
        {
            return ReadTokenFile(Path.Combine(environment.WorkingDirectory, tokenFileOption), "--token-file");
        }

        if (environment.NonEmpty(CliEnvironment.TokenVariable) is { } fromVariable)
        {
            return (fromVariable.Trim(), null);
        }

        if (environment.NonEmpty(CliEnvironment.TokenFileVariable) is { } fileFromVariable)
        {
            return ReadTokenFile(Path.Combine(environment.WorkingDirectory, fileFromVariable), CliEnvironment.TokenFileVariable);
        }

        var demoFile = Path.Combine(environment.WorkingDirectory, CliEnvironment.DemoTokenFile);
        if (File.Exists(demoFile))
        {
            return ReadTokenFile(demoFile, "the demo's token file");
        }

        return (null, new CliError(ExitCodes.Unreachable,
            $"no admin token: pass --token-file <file>, or set {CliEnvironment.TokenFileVariable} or {CliEnvironment.TokenVariable} "
            + $"(the demo writes one to {CliEnvironment.DemoTokenFile})"));
    }

    private static (string? Token, CliError? Error) ReadTokenFile(string path, string source)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, new CliError(ExitCodes.Unreachable, $"cannot read the admin token file '{path}' (from {source}): {e.Message}"));
        }

        return text.Trim() is { Length: > 0 } token
            ? (token, null)
            : (null, new CliError(ExitCodes.Unreachable, $"the admin token file '{path}' (from {source}) is empty"));
    }
}

/// <summary>A failure gatewayctl reports itself: one line to stderr and an exit code.</summary>
public sealed record CliError(int ExitCode, string Message);
