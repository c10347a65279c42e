using System.Text;
using Prometheus;

namespace Gateway.Observability;

/// <summary>
/// The metrics of one gateway process, served on <c>/metrics</c> (prometheus-net). Each host has its own registry,
/// never prometheus-net's static default one: tests run several gateways in one process, and each must expose only
/// its own series. Components create their metrics on <see cref="Factory"/> in their constructors (README.md).
/// </summary>
public sealed partial class GatewayMetrics
{
    /// <summary>
    /// Histogram buckets for latencies in seconds: from well under a millisecond (the gateway's own overhead) to the
    /// 30 s a slow deposit may take.
    /// </summary>
    public static readonly double[] LatencyBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly ILogger<GatewayMetrics> _logger;

    public GatewayMetrics(ILogger<GatewayMetrics> logger)
    {
        _logger = logger;
        Registry = Metrics.NewCustomRegistry();
        Factory = Metrics.WithCustomRegistry(Registry);
        // No exemplars: they are only shown in OpenMetrics scrapes, and looking for a trace on every increment would
        // put a call on the proxy's hot path for nothing.
        Factory.ExemplarBehavior = new ExemplarBehavior { DefaultExemplarProvider = null };
    }

    public CollectorRegistry Registry { get; }

    public IMetricFactory Factory { get; }

    /// <summary>A counter; with labels, each series appears (at 0) once <c>WithLabels</c> first names it.</summary>
    public Counter Counter(string name, string help, params string[] labelNames) => Factory.CreateCounter(name, help, labelNames);

    /// <summary>A gauge the component sets itself; <see cref="ObservedGauge(string, string, string[], Func{IEnumerable{Sample}})"/> for one read at each scrape.</summary>
    public Gauge Gauge(string name, string help, params string[] labelNames) => Factory.CreateGauge(name, help, labelNames);

    /// <summary>A histogram in seconds over <see cref="LatencyBucketsSeconds"/>; a series appears with its first observation.</summary>
    public Histogram LatencyHistogram(string name, string help, params string[] labelNames) =>
        Factory.CreateHistogram(name, help, labelNames, new HistogramConfiguration { Buckets = LatencyBucketsSeconds, SuppressInitialValue = true });

    /// <summary>
    /// Runs <paramref name="update"/> before every scrape, to set metrics from state the component already keeps
    /// (a gauge of the current value, a counter of a total kept elsewhere). A failing update is logged; the rest of
    /// the scrape goes on.
    /// </summary>
    public void OnScrape(string what, Action update) =>
        Registry.AddBeforeCollectCallback(() =>
        {
            try
            {
                update();
            }
            catch (Exception failure)
            {
                Log.ScrapeUpdateFailed(_logger, what, failure);
            }
        });

    /// <summary>
    /// A gauge whose series are read from the component at each scrape: every series <paramref name="observe"/>
    /// reports is set, and a series it no longer reports (a removed instance) disappears.
    /// </summary>
    public void ObservedGauge(string name, string help, string[] labelNames, Func<IEnumerable<Sample>> observe)
    {
        var gauge = Gauge(name, help, labelNames);
        var present = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var gate = new Lock();
        OnScrape(name, () =>
        {
            // Concurrent scrapes run the callbacks concurrently.
            lock (gate)
            {
                List<Sample> samples;
                try
                {
                    samples = observe().ToList();
                }
                catch
                {
                    // Series that cannot be read are left out rather than shown with a value that may be stale.
                    foreach (var labels in present.Values)
                    {
                        gauge.RemoveLabelled(labels);
                    }

                    present.Clear();
                    throw;
                }

                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var sample in samples)
                {
                    var key = Key(sample.Labels);
                    seen.Add(key);
                    present[key] = sample.Labels;
                    gauge.WithLabels(sample.Labels).Set(sample.Value);
                }

                foreach (var gone in present.Keys.Where(key => !seen.Contains(key)).ToList())
                {
                    gauge.RemoveLabelled(present[gone]);
                    present.Remove(gone);
                }
            }
        });
    }

    /// <summary>An unlabelled gauge set from <paramref name="observe"/> at each scrape.</summary>
    public void ObservedGauge(string name, string help, Func<double> observe)
    {
        var gauge = Gauge(name, help);
        OnScrape(name, () =>
        {
            try
            {
                gauge.Set(observe());
            }
            catch
            {
                gauge.Unpublish();
                throw;
            }
        });
    }

    /// <summary>The text exposition (Prometheus text format 0.0.4) of everything now, as a scrape would get it.</summary>
    public async Task<string> ScrapeAsync(CancellationToken cancellation = default)
    {
        using var output = new MemoryStream();
        await Registry.CollectAndExportAsTextAsync(output, cancellation);
        return Encoding.UTF8.GetString(output.ToArray());
    }

    private static string Key(string[] labels) => string.Join('\u001f', labels);
}

/// <summary>One series of an observed gauge: its value and its label values, in the order of the gauge's label names.</summary>
public readonly record struct Sample(double Value, string[] Labels)
{
    public static Sample Of(double value, params string[] labels) => new(value, labels);
}
