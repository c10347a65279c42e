namespace Gateway.Observability;

public enum MetricType
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>One label of a series, by its Prometheus name.</summary>
public readonly record struct Label(string Name, string Value);

/// <summary>A histogram bucket: how many observations were at most <paramref name="UpperBound"/> (cumulative, as Prometheus counts).</summary>
public readonly record struct Bucket(double UpperBound, long CumulativeCount);

/// <summary>
/// One series at scrape time. Counters and gauges have a <see cref="Value"/>; histograms have cumulative
/// <see cref="Buckets"/> ending with +Inf (whose count is the series' count) and a <see cref="Sum"/>.
/// </summary>
public sealed record SeriesSnapshot(IReadOnlyList<Label> Labels, double Value, IReadOnlyList<Bucket> Buckets, double Sum)
{
    public static SeriesSnapshot Sample(IReadOnlyList<Label> labels, double value) => new(labels, value, [], 0);

    public static SeriesSnapshot Histogram(IReadOnlyList<Label> labels, IReadOnlyList<Bucket> buckets, double sum) => new(labels, 0, buckets, sum);

    public long Count => Buckets.Count == 0 ? 0 : Buckets[^1].CumulativeCount;
}

/// <summary>A metric family at scrape time: what one HELP/TYPE block of the exposition holds.</summary>
public sealed record MetricSnapshot(string Name, string Help, MetricType Type, IReadOnlyList<SeriesSnapshot> Series);
