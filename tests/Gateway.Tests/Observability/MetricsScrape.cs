using System.Globalization;
using System.Text.RegularExpressions;

namespace Gateway.Tests.Observability;

/// <summary>
/// A scrape of the gateway's /metrics as the samples it holds: "name{labels}" to value, with the labels ordered by
/// name (a histogram's "le" last), whatever order the exposition writes them in.
/// </summary>
public sealed partial class MetricsScrape
{
    private MetricsScrape(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => !line.StartsWith('#')))
        {
            var separator = line.LastIndexOf(' ');
            Samples[Canonical(line[..separator])] = double.Parse(line[(separator + 1)..], CultureInfo.InvariantCulture);
        }
    }

    public string Text { get; }

    public Dictionary<string, double> Samples { get; } = [];

    /// <summary>The metric names Prometheus stores from this scrape (histograms as their _bucket, _sum and _count).</summary>
    public IReadOnlySet<string> Names => Samples.Keys.Select(key => key.Split('{')[0]).ToHashSet();

    public static MetricsScrape Parse(string exposition) => new(exposition);

    public static async Task<MetricsScrape> FetchAsync(Uri adminBaseAddress)
    {
        // Anonymous on purpose: Prometheus scrapes without the admin token.
        using var client = new HttpClient { BaseAddress = adminBaseAddress };
        return new MetricsScrape(await client.GetStringAsync("/metrics"));
    }

    public double Value(string series) =>
        Samples.TryGetValue(Canonical(series), out var value) ? value : throw new KeyNotFoundException($"no sample {series} in the scrape:\n{Text}");

    /// <summary>The series of <paramref name="name"/> in this scrape, by their canonical "name{labels}".</summary>
    public IEnumerable<string> SeriesOf(string name) => Samples.Keys.Where(key => key == name || key.StartsWith(name + "{", StringComparison.Ordinal));

    private static string Canonical(string series)
    {
        var brace = series.IndexOf('{');
        if (brace < 0)
        {
            return series;
        }

        var labels = Label().Matches(series[(brace + 1)..^1])
            .Select(match => (Name: match.Groups[1].Value, Text: match.Value))
            .OrderBy(label => label.Name == "le" ? 1 : 0)
            .ThenBy(label => label.Name, StringComparer.Ordinal);
        return $"{series[..brace]}{{{string.Join(",", labels.Select(label => label.Text))}}}";
    }

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?=,|$)""")]
    private static partial Regex Label();
}
