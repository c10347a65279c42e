using System.Text;

namespace Gateway.Observability;

/// <summary>
/// Turns an instrument's OpenTelemetry-style name and UCUM unit into the Prometheus name operators expect:
/// <c>gateway.request.duration</c> in <c>s</c> becomes <c>gateway_request_duration_seconds</c>, the counter
/// <c>gateway.requests</c> in <c>{request}</c> becomes <c>gateway_requests_total</c>.
/// </summary>
public static class PrometheusNames
{
    /// <summary>Units spelled out as Prometheus' base-unit suffixes; annotations in braces ({request}) and "1" add nothing.</summary>
    private static readonly Dictionary<string, string> UnitSuffixes = new(StringComparer.Ordinal)
    {
        ["s"] = "seconds",
        ["By"] = "bytes",
    };

    public static string Metric(string instrumentName, string? unit, bool isCounter)
    {
        var name = Sanitize(instrumentName);
        if (UnitSuffix(unit) is { } suffix && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name += "_" + suffix;
        }

        return isCounter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
    }

    /// <summary>A tag key as a label name: "gc.heap.generation" becomes "gc_heap_generation".</summary>
    public static string Label(string tagKey)
    {
        var name = Sanitize(tagKey);
        // Names starting with "__" are reserved for Prometheus' own labels.
        return name.StartsWith("__", StringComparison.Ordinal) ? name[1..] : name;
    }

    private static string? UnitSuffix(string? unit) => unit switch
    {
        null or "" or "1" => null,
        ['{', .., '}'] => null,
        _ => UnitSuffixes.GetValueOrDefault(unit) ?? Sanitize(unit),
    };

    /// <summary>Keeps [a-zA-Z0-9_], replaces anything else by '_', and never starts with a digit.</summary>
    private static string Sanitize(string name)
    {
        var result = new StringBuilder(name.Length + 1);
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            result.Append('_');
        }

        foreach (var c in name)
        {
            result.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        return result.ToString();
    }
}
