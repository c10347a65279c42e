using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Gateway.Cli.Connection;

/// <summary>The options every command takes: where the gateway is, how to authenticate, how to print, how long to wait.</summary>
public sealed partial class GlobalOptions
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    public GlobalOptions(CliEnvironment environment)
    {
        Url = new Option<string?>("--url")
        {
            Description = $"Admin API base URL [env {CliEnvironment.UrlVariable}; else, with the demo's token, the demo's "
                + $"({CliEnvironment.DemoConfigFile}); else {ConnectionSettings.DefaultUrl}]",
            Recursive = true,
        };
        TokenFile = new Option<string?>("--token-file")
        {
            Description = $"File holding the admin token [env {CliEnvironment.TokenFileVariable}, else {CliEnvironment.DemoTokenFile} if present; "
                + $"env {CliEnvironment.TokenVariable} holds the token itself]",
            HelpName = "file",
            Recursive = true,
        };
        Json = new Option<bool>("--json")
        {
            Description = "Print the gateway's JSON answer unchanged (for scripts); no tables, no progress",
            Recursive = true,
        };
        Timeout = new Option<TimeSpan>("--timeout")
        {
            Description = "How long to wait for the gateway's answer, e.g. 90s, 10m, 1h (a base backup can take minutes)",
            DefaultValueFactory = _ => DefaultTimeout,
            CustomParser = result => ParseTimeout(result.Tokens.Single().Value, result.AddError),
            HelpName = "duration",
            Recursive = true,
        };
    }

    public Option<string?> Url { get; }
    public Option<string?> TokenFile { get; }
    public Option<bool> Json { get; }
    public Option<TimeSpan> Timeout { get; }

    public IEnumerable<Option> All => [Url, TokenFile, Json, Timeout];

    /// <summary>"500ms", "90s", "10m", "1h", a plain number of seconds, or a .NET time span ("00:10:00").</summary>
    public static TimeSpan ParseTimeout(string text, Action<string> reportError)
    {
        TimeSpan? parsed = null;
        if (DurationPattern().Match(text.Trim()) is { Success: true } match)
        {
            var amount = double.Parse(match.Groups["amount"].Value, CultureInfo.InvariantCulture);
            parsed = match.Groups["unit"].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "" or "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromHours(amount),
            };
        }
        else if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            parsed = span;
        }

        if (parsed is not { } value || value <= TimeSpan.Zero)
        {
            reportError($"--timeout: '{text}' is not a positive duration (examples: 90s, 10m, 1h, 00:10:00)");
            return DefaultTimeout;
        }

        return value;
    }

    [GeneratedRegex(@"^(?<amount>\d+(\.\d+)?)(?<unit>ms|s|m|h)?$")]
    private static partial Regex DurationPattern();
}
