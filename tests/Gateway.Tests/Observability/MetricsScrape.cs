using System.Globalization;

namespace Gateway.Tests.Observability;

/// <summary>A scrape of the gateway's /metrics as the samples it holds: "name{labels}" (labels as the gateway orders them) to value.</summary>
public sealed class MetricsScrape
{
    private MetricsScrape(string text)
    {
        Text = text;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => !line.StartsWith('#')))
        {
            var separator = line.LastIndexOf(' ');
            Samples[line[..separator]] = double.Parse(line[(separator + 1)..], CultureInfo.InvariantCulture);
        }
    }

    public string Text { get; }

    public Dictionary<string, double> Samples { get; } = [];

    /// <summary>The metric names Prometheus stores from this scrape (histograms as their _bucket, _sum and _count).</summary>
    public IReadOnlySet<string> Names => Samples.Keys.Select(key => key.Split('{')[0]).ToHashSet();

    public static async Task<MetricsScrape> FetchAsync(Uri adminBaseAddress)
    {
        // Anonymous on purpose: Prometheus scrapes without the admin token.
        using var client = new HttpClient { BaseAddress = adminBaseAddress };
        return new MetricsScrape(await client.GetStringAsync("/metrics"));
    }

    public double Value(string series) =>
        Samples.TryGetValue(series, out var value) ? value : throw new KeyNotFoundException($"no sample {series} in the scrape:\n{Text}");
}
