namespace Gateway.Cli.Connection;

/// <summary>Where the admin API is and the token to present there. The token is never printed, not even in errors.</summary>
public sealed class ConnectionSettings
{
    public const string DefaultUrl = "http://127.0.0.1:8081";

    private ConnectionSettings(Uri baseUrl, string token)
    {
        BaseUrl = baseUrl;
        Token = token;
    }

    public Uri BaseUrl { get; }
    public string Token { get; }

    /// <summary>
    /// The settings, or the message and exit code saying why they cannot be had. The URL by precedence: --url;
    /// GATEWAY_ADMIN_URL; when the token is the demo's own (found by itself under the working directory), the demo's
    /// admin URL from its configuration, so that its token never goes to whatever else answers on the default port;
    /// else <see cref="DefaultUrl"/>.
    /// </summary>
    public static (ConnectionSettings? Settings, CliError? Error) Resolve(string? urlOption, string? tokenFileOption, CliEnvironment environment)
    {
        // A malformed URL the operator gave is a usage error, reported before anything else is looked at.
        var givenUrl = urlOption ?? environment.NonEmpty(CliEnvironment.UrlVariable);
        if (givenUrl is not null && BaseUrlOf(givenUrl) is null)
        {
            return (null, NotHttp(givenUrl));
        }

        var (token, fromDemo, tokenError) = ReadToken(tokenFileOption, environment);
        if (token is null)
        {
            return (null, tokenError);
        }

        var url = givenUrl;
        if (url is null && fromDemo)
        {
            var (demoUrl, demoError) = DemoConfiguration.AdminUrl(Path.Combine(environment.WorkingDirectory, CliEnvironment.DemoConfigFile));
            if (demoUrl is null)
            {
                return (null, new CliError(ExitCodes.Unreachable,
                    $"using the demo's token ({CliEnvironment.DemoTokenFile}) but not its admin URL: {demoError}; pass --url or set {CliEnvironment.UrlVariable}"));
            }

            url = demoUrl;
        }

        url ??= DefaultUrl;
        return BaseUrlOf(url) is { } baseUrl ? (new ConnectionSettings(baseUrl, token), null) : (null, NotHttp(url));
    }

    private static CliError NotHttp(string url) => new(ExitCodes.Usage, $"--url '{url}' is not an http:// or https:// URL");

    /// <summary>
    /// The URL as a base that request paths are resolved against: "http://host/gw" must mean "http://host/gw/admin/...",
    /// not "http://host/admin/...". Null when it is not an http(s) URL.
    /// </summary>
    private static Uri? BaseUrlOf(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var baseUrl) || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
        {
            return null;
        }

        return baseUrl.AbsolutePath.EndsWith('/') ? baseUrl : new UriBuilder(baseUrl) { Path = baseUrl.AbsolutePath + "/" }.Uri;
    }

    /// <summary>
    /// The token by precedence: --token-file given on the command line; GATEWAY_ADMIN_TOKEN (the token itself, as the
    /// gateway also lets it win over a file); GATEWAY_ADMIN_TOKEN_FILE; the demo's token file under the working directory.
    /// </summary>
    private static (string? Token, bool FromDemo, CliError? Error) ReadToken(string? tokenFileOption, CliEnvironment environment)
    {
        if (tokenFileOption is not null)
        {
            return ReadTokenFile(Path.Combine(environment.WorkingDirectory, tokenFileOption), "--token-file", fromDemo: false);
        }

        if (environment.NonEmpty(CliEnvironment.TokenVariable) is { } fromVariable)
        {
            return (fromVariable.Trim(), false, null);
        }

        if (environment.NonEmpty(CliEnvironment.TokenFileVariable) is { } fileFromVariable)
        {
            return ReadTokenFile(Path.Combine(environment.WorkingDirectory, fileFromVariable), CliEnvironment.TokenFileVariable, fromDemo: false);
        }

        var demoFile = Path.Combine(environment.WorkingDirectory, CliEnvironment.DemoTokenFile);
        if (File.Exists(demoFile))
        {
            return ReadTokenFile(demoFile, "the demo's token file", fromDemo: true);
        }

        return (null, false, new CliError(ExitCodes.Unreachable,
            $"no admin token: pass --token-file <file>, or set {CliEnvironment.TokenFileVariable} or {CliEnvironment.TokenVariable} "
            + $"(the demo writes one to {CliEnvironment.DemoTokenFile})"));
    }

    private static (string? Token, bool FromDemo, CliError? Error) ReadTokenFile(string path, string source, bool fromDemo)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, fromDemo, new CliError(ExitCodes.Unreachable, $"cannot read the admin token file '{path}' (from {source}): {e.Message}"));
        }

        return text.Trim() is { Length: > 0 } token
            ? (token, fromDemo, null)
            : (null, fromDemo, new CliError(ExitCodes.Unreachable, $"the admin token file '{path}' (from {source}) is empty"));
    }
}

/// <summary>A failure gatewayctl reports itself: one line to stderr and an exit code.</summary>
public sealed record CliError(int ExitCode, string Message);
