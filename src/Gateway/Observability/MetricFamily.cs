using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Gateway.Observability;

/// <summary>
/// The series of one instrument and how its measurements combine: counters and up-down counters add, gauges and
/// every observable instrument keep the last value, histograms count into buckets.
/// </summary>
public sealed class MetricFamily
{
    /// <summary>
    /// Histogram buckets when the instrument gives no advice: proxy latency in seconds, from well under a millisecond
    /// (the gateway's own overhead) to the 30 s a slow deposit may take.
    /// </summary>
    public static readonly double[] LatencyBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly ConcurrentDictionary<LabelSet, MetricSeries> _series = new(LabelSetComparer.Instance);
    private readonly ConcurrentDictionary<LabelSet, MetricSeries>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _seriesByTags;
    private readonly Aggregation _aggregation;
    private readonly double[] _upperBounds;

    private MetricFamily(Instrument instrument, MetricType type, Aggregation aggregation)
    {
        Name = PrometheusNames.Metric(instrument.Name, instrument.Unit, type == MetricType.Counter);
        Help = instrument.Description ?? "";
        Type = type;
        IsObservable = instrument.IsObservable;
        _aggregation = aggregation;
        _upperBounds = type == MetricType.Histogram ? UpperBoundsOf(instrument) : [];
        _seriesByTags = _series.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
    }

    private enum Aggregation
    {
        Sum,
        LastValue,
        Histogram,
    }

    public string Name { get; }

    public string Help { get; }

    public MetricType Type { get; }

    /// <summary>Observable instruments report their whole state at each scrape; their series are rebuilt every time.</summary>
    public bool IsObservable { get; }

    /// <summary>The family for an instrument, or null for a kind of instrument this collector does not know.</summary>
    public static MetricFamily? For(Instrument instrument)
    {
        var kind = instrument.GetType() is { IsGenericType: true } type ? type.GetGenericTypeDefinition() : null;
        return kind switch
        {
            _ when kind == typeof(Counter<>) => new(instrument, MetricType.Counter, Aggregation.Sum),
            _ when kind == typeof(UpDownCounter<>) => new(instrument, MetricType.Gauge, Aggregation.Sum),
            _ when kind == typeof(Histogram<>) => new(instrument, MetricType.Histogram, Aggregation.Histogram),
            _ when kind == typeof(Gauge<>) => new(instrument, MetricType.Gauge, Aggregation.LastValue),
            _ when kind == typeof(ObservableCounter<>) => new(instrument, MetricType.Counter, Aggregation.LastValue),
            _ when kind == typeof(ObservableUpDownCounter<>) || kind == typeof(ObservableGauge<>) => new(instrument, MetricType.Gauge, Aggregation.LastValue),
            _ => null,
        };
    }

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var series = SeriesFor(tags);
        switch (_aggregation)
        {
            case Aggregation.Sum:
                series.Add(value);
                break;
            case Aggregation.LastValue:
                series.Set(value);
                break;
            case Aggregation.Histogram:
                series.Observe(value, _upperBounds);
                break;
        }
    }

    /// <summary>Before an observation round: a series the callback no longer reports (a removed instance) disappears.</summary>
    public void ForgetObservations() => _series.Clear();

    public MetricSnapshot Snapshot() => new(Name, Help, Type, _series.Values.Select(series => series.Snapshot(Type, _upperBounds)).ToList());

    private MetricSeries SeriesFor(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_seriesByTags.TryGetValue(tags, out var existing))
        {
            return existing;
        }

        // First measurement with these tags: build the key once; a racing first measurement gets the same series.
        var labels = LabelSet.From(tags);
        return _series.GetOrAdd(labels, static (key, bucketCount) => new MetricSeries(key, bucketCount), _upperBounds.Length == 0 ? 0 : _upperBounds.Length + 1);
    }

    private static double[] UpperBoundsOf(Instrument instrument)
    {
        IEnumerable<double>? advised = instrument switch
        {
            Instrument<double> { Advice.HistogramBucketBoundaries: { } bounds } => bounds,
            Instrument<float> { Advice.HistogramBucketBoundaries: { } bounds } => bounds.Select(bound => (double)bound),
            Instrument<long> { Advice.HistogramBucketBoundaries: { } bounds } => bounds.Select(bound => (double)bound),
            Instrument<int> { Advice.HistogramBucketBoundaries: { } bounds } => bounds.Select(bound => (double)bound),
            _ => null,
        };
        return advised is null ? LatencyBucketsSeconds : [.. advised.Order().Distinct()];
    }
}
