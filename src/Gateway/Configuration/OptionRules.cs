using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Gateway.Configuration;

/// <summary>
/// A per-field rule on an option, checked by the options validation source generator ([OptionsValidator]). Its
/// failure reads "full key: problem" (Gateway:Routing:HealthCheck:Interval: 00:00:00 must be greater than zero): the
/// generator hands each rule the member's path under the name the validator was called with, which
/// <see cref="ConfigurationKeys.FromDisplayName"/> turns back into the configuration key.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public abstract class OptionRuleAttribute : ValidationAttribute
{
    public override bool RequiresValidationContext => true;

    protected sealed override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        Problem(value) is { } problem
            ? new ValidationResult(new ConfigurationError(ConfigurationKeys.FromDisplayName(validationContext.DisplayName), problem).ToString())
            : ValidationResult.Success;

    /// <summary>What is wrong with the value, in words that show it (unless it may be a secret); null when it is fine.</summary>
    protected abstract string? Problem(object? value);
}

/// <summary>A duration that must be longer than zero (or than <see cref="Seconds"/>), and at most <see cref="MaxDays"/> when that is set.</summary>
public sealed class PositiveAttribute : OptionRuleAttribute
{
    /// <summary>The value must be more than this many seconds; 0 means greater than zero.</summary>
    public double Seconds { get; set; }

    /// <summary>The longest value taken, in days; 0 means no bound.</summary>
    public double MaxDays { get; set; }

    protected override string? Problem(object? value) => value switch
    {
        TimeSpan span when span <= TimeSpan.FromSeconds(Seconds) =>
            Seconds == 0 ? $"{span} must be greater than zero" : $"{span} must be more than {Seconds} second{(Seconds == 1 ? "" : "s")}",
        TimeSpan span when MaxDays > 0 && span > TimeSpan.FromDays(MaxDays) => $"{span} must be at most {TimeSpan.FromDays(MaxDays)}",
        _ => null,
    };
}

/// <summary>
/// A whole number of at least <paramref name="minimum"/> and at most <see cref="Maximum"/>; <see cref="Requirement"/>
/// says it in the key's own words.
/// </summary>
public sealed class AtLeastAttribute(long minimum) : OptionRuleAttribute
{
    public long Minimum { get; } = minimum;

    public long Maximum { get; set; } = long.MaxValue;

    public string? Requirement { get; set; }

    protected override string? Problem(object? value) =>
        value is IConvertible number && Convert.ToInt64(number, CultureInfo.InvariantCulture) is var n && (n < Minimum || n > Maximum)
            ? $"{n} {Requirement ?? (Maximum == long.MaxValue ? $"must be at least {Minimum}" : $"must be between {Minimum} and {Maximum}")}"
            : null;
}

/// <summary>A real number above <see cref="Above"/> (exclusive), from <see cref="From"/> to <see cref="To"/> (inclusive); never NaN or infinite.</summary>
public sealed class NumberAttribute(string requirement) : OptionRuleAttribute
{
    public string Requirement { get; } = requirement;

    public double Above { get; set; } = double.MinValue;

    public double From { get; set; } = double.MinValue;

    public double To { get; set; } = double.MaxValue;

    protected override string? Problem(object? value) =>
        value is double n && !(n > Above && n >= From && n <= To) ? $"{n} {Requirement}" : null;
}

/// <summary>A TCP port, 1 to 65535.</summary>
public sealed class PortAttribute : OptionRuleAttribute
{
    protected override string? Problem(object? value) => value is int port and (< 1 or > 65535) ? $"{port} is not a TCP port (1-65535)" : null;
}

/// <summary>Text that must be there (not empty or blank), or a value that must be set; <see cref="Requirement"/> adds what is expected.</summary>
public sealed class RequiredValueAttribute : OptionRuleAttribute
{
    public string Requirement { get; set; } = "is required";

    protected override string? Problem(object? value) => value is null || (value is string text && string.IsNullOrWhiteSpace(text)) ? Requirement : null;
}

/// <summary>An absolute http:// or https:// URL without query, fragment or user info; with <see cref="Optional"/>, empty too.</summary>
public sealed class HttpUrlAttribute : OptionRuleAttribute
{
    public bool Optional { get; set; }

    protected override string? Problem(object? value) =>
        value is string text && !(Optional && text.Length == 0) ? HttpUrls.Problem(text) : null;
}

/// <summary>Text starting with <paramref name="prefix"/>.</summary>
public sealed class StartsWithAttribute(string prefix) : OptionRuleAttribute
{
    public string Prefix { get; } = prefix;

    protected override string? Problem(object? value) =>
        value is string text && !text.StartsWith(Prefix, StringComparison.Ordinal) ? $"'{text}' must start with '{Prefix}'" : null;
}

/// <summary>A list whose entries are all non-blank; <paramref name="requirement"/> says what they must be.</summary>
public sealed class NoBlankEntriesAttribute(string requirement) : OptionRuleAttribute
{
    public string Requirement { get; } = requirement;

    protected override string? Problem(object? value) =>
        value is IEnumerable<string> entries && entries.Any(string.IsNullOrWhiteSpace) ? Requirement : null;
}

/// <summary>A listening address: an IP address and a port (127.0.0.1:6432).</summary>
public sealed class IpEndpointAttribute : OptionRuleAttribute
{
    protected override string? Problem(object? value) =>
        value is string text && !(IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0)
            ? $"'{text}' is not an IP address and port such as 127.0.0.1:6432"
            : null;
}

/// <summary>An enum value that is one of its names (the binder takes any number).</summary>
public sealed class DefinedAttribute : OptionRuleAttribute
{
    protected override string? Problem(object? value) =>
        value is Enum item && !Enum.IsDefined(item.GetType(), item) ? $"'{item}' is not one of {string.Join(", ", Enum.GetNames(item.GetType()))}" : null;
}

/// <summary>Full configuration keys from the paths the options validation generator builds.</summary>
public static partial class ConfigurationKeys
{
    /// <summary>"Gateway.Sites[1].Instances[0].Url" to "Gateway:Sites:1:Instances:0:Url"; section names hold no dots.</summary>
    public static string FromDisplayName(string displayName) => Index().Replace(displayName, ":$1").Replace('.', ':');

    /// <summary>
    /// Runs a validator over options bound from <paramref name="sectionKey"/>, and reads its failures ("key: problem")
    /// back as errors.
    /// </summary>
    public static IEnumerable<ConfigurationError> Check<TOptions>(this IValidateOptions<TOptions> validator, string sectionKey, TOptions options)
        where TOptions : class =>
        validator.Validate(sectionKey, options) is { Failed: true, Failures: { } failures } ? failures.Select(Parse) : [];

    /// <summary>A failure as written by <see cref="ConfigurationError.ToString"/>: the key has no space, the problem follows ": ".</summary>
    public static ConfigurationError Parse(string failure) =>
        failure.IndexOf(": ", StringComparison.Ordinal) is var split and > 0 && !failure.AsSpan(0, split).Contains(' ')
            ? new(failure[..split], failure[(split + 2)..])
            : new(GatewaySection, failure);

    /// <summary>Errors as a validation result, for a hand-written <see cref="IValidateOptions{TOptions}"/>.</summary>
    public static ValidateOptionsResult ToResult(this IEnumerable<ConfigurationError> errors) =>
        errors.Select(error => error.ToString()).ToList() is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;

    private const string GatewaySection = "Gateway";

    [GeneratedRegex(@"\[(\d+)\]")]
    private static partial Regex Index();
}

/// <summary>The one reading of "an http:// or https:// URL" shared by listeners, instances and the OTLP endpoint.</summary>
public static class HttpUrls
{
    /// <summary>The parsed URL when <paramref name="value"/> is one; null otherwise (see <see cref="Problem"/>).</summary>
    public static Uri? Parse(string value) => Problem(value) is null ? new Uri(value, UriKind.Absolute) : null;

    public static string? Problem(string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "is required";
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var url)
            || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(url.Host))
        {
            return $"'{value}' is not an absolute http:// or https:// URL";
        }

        // User info may be a password: the value is not echoed then.
        return url.UserInfo.Length > 0 ? "must not contain user info (the value is not shown: it may hold a password)"
            : url.Query.Length > 0 || url.Fragment.Length > 0 ? $"'{value}' must not contain a query or fragment"
            : null;
    }
}
