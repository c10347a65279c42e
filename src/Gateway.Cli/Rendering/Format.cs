using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gateway.Cli.Rendering;

/// <summary>How single values read in tables: "-" for nothing, yes/no for flags, seconds for time spans.</summary>
public static partial class Format
{
    public const string Missing = "-";

    public static string Text(string? value) => string.IsNullOrEmpty(value) ? Missing : value;

    public static string Flag(bool? value) => value switch { true => "yes", false => "no", null => Missing };

    public static string Number(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? Missing;

    public static string Seconds(double? value) => value is { } seconds ? seconds.ToString("0.00", CultureInfo.InvariantCulture) : Missing;

    /// <summary>"850 ms", "2.40 s", "3 min 05 s": short, and exact enough to compare step timings.</summary>
    public static string Duration(TimeSpan span) => span switch
    {
        { TotalSeconds: < 1 } => $"{span.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms",
        { TotalMinutes: < 1 } => $"{span.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s",
        _ => $"{(int)span.TotalMinutes} min {span.Seconds:00} s",
    };

    public static string Milliseconds(TimeSpan span) => span.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);

    /// <summary>A time span as System.Text.Json writes it ("00:00:01.2340000", "1.02:03:04"), or null for anything else.</summary>
    public static TimeSpan? TryTimeSpan(JsonElement? value) =>
        value is { ValueKind: JsonValueKind.String } text && TimeSpanPattern().IsMatch(text.GetString()!)
        && TimeSpan.TryParse(text.GetString(), CultureInfo.InvariantCulture, out var span)
            ? span
            : null;

    public static string Timestamp(DateTimeOffset? value) => value?.ToString("yyyy-MM-dd HH:mm:ss.fff zzz", CultureInfo.InvariantCulture) ?? Missing;

    /// <summary>Any JSON value on one line: strings bare, time spans as durations, timestamps readable, structures as compact JSON.</summary>
    public static string Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => Missing,
        JsonValueKind.True => "yes",
        JsonValueKind.False => "no",
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.String when TryTimeSpan(value) is { } span => Duration(span),
        JsonValueKind.String when TimestampPattern().IsMatch(value.GetString()!) && value.TryGetDateTimeOffset(out var at) => Timestamp(at),
        JsonValueKind.String => Text(value.GetString()),
        JsonValueKind.Array when value.GetArrayLength() == 0 => "none",
        JsonValueKind.Array when value.EnumerateArray().All(IsScalar) => string.Join(", ", value.EnumerateArray().Select(Scalar)),
        _ => value.GetRawText(),
    };

    public static bool IsScalar(JsonElement value) => value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array);

    /// <summary>"replayLagBytes" as "replay lag bytes": JSON names made readable without a table of translations.</summary>
    public static string Label(string jsonName)
    {
        var words = new StringBuilder(jsonName.Length + 8);
        for (var i = 0; i < jsonName.Length; i++)
        {
            var c = jsonName[i];
            var startsWord = i > 0 && char.IsUpper(c) && (char.IsLower(jsonName[i - 1]) || (i + 1 < jsonName.Length && char.IsLower(jsonName[i + 1])));
            if (startsWord)
            {
                words.Append(' ');
            }

            words.Append(c == '_' ? ' ' : char.ToLowerInvariant(c));
        }

        return words.ToString();
    }

    /// <summary>A section title: "currentOperation" as "Current operation".</summary>
    public static string Title(string jsonName) => Label(jsonName) is { Length: > 0 } label ? char.ToUpperInvariant(label[0]) + label[1..] : jsonName;

    [GeneratedRegex(@"^-?(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?$")]
    private static partial Regex TimeSpanPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")]
    private static partial Regex TimestampPattern();
}
