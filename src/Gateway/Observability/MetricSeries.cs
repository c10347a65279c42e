namespace Gateway.Observability;

/// <summary>
/// The running value of one series. Updates are lock-free (compare-and-swap on a double, interlocked increments on
/// bucket counts), so any number of requests can record at once without contending on a lock.
/// </summary>
public sealed class MetricSeries(LabelSet labels, int bucketCount)
{
    private readonly long[] _buckets = bucketCount == 0 ? [] : new long[bucketCount];
    private double _value;
    private double _sum;

    public LabelSet Labels { get; } = labels;

    public void Add(double amount) => AddTo(ref _value, amount);

    public void Set(double value) => Volatile.Write(ref _value, value);

    /// <summary>Counts the observation in the first bucket whose upper bound is at least the value (Prometheus' "le").</summary>
    public void Observe(double value, double[] upperBounds)
    {
        var index = Array.BinarySearch(upperBounds, value);
        Interlocked.Increment(ref _buckets[index >= 0 ? index : ~index]);
        AddTo(ref _sum, value);
    }

    public SeriesSnapshot Snapshot(MetricType type, double[] upperBounds) =>
        type == MetricType.Histogram
            ? SeriesSnapshot.Histogram(Labels.Labels, CumulativeBuckets(upperBounds), Volatile.Read(ref _sum))
            : SeriesSnapshot.Sample(Labels.Labels, Volatile.Read(ref _value));

    /// <summary>The last bucket (+Inf) holds everything, so the count a scrape reports always equals its +Inf bucket.</summary>
    private List<Bucket> CumulativeBuckets(double[] upperBounds)
    {
        var buckets = new List<Bucket>(_buckets.Length);
        long cumulative = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            cumulative += Volatile.Read(ref _buckets[i]);
            buckets.Add(new Bucket(i < upperBounds.Length ? upperBounds[i] : double.PositiveInfinity, cumulative));
        }

        return buckets;
    }

    private static void AddTo(ref double target, double amount)
    {
        var current = Volatile.Read(ref target);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref target, current + amount, current);
            if (BitConverter.DoubleToInt64Bits(seen) == BitConverter.DoubleToInt64Bits(current))
            {
                return;
            }

            current = seen;
        }
    }
}
