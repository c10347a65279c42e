using System.Collections.Concurrent;
using Gateway.Model;
using Prometheus;

namespace Gateway.Observability;

/// <summary>
/// Proxied requests: a count and a latency histogram by site, instance, method and status class. Every label value
/// comes from a small fixed set (configured ids, known methods, six classes), so the series stay few. Each
/// instance's series are resolved once and kept in an array indexed by method and class: recording a request is a
/// dictionary lookup by instance id, two array reads and the increments, with no allocation.
/// </summary>
public sealed class ProxyMetrics
{
    /// <summary>The site and instance of a request refused before any instance was chosen (503, none healthy).</summary>
    public const string None = "none";

    /// <summary>The gateway's own name for an instance label: Prometheus' <c>instance</c> is the scrape target.</summary>
    public const string InstanceLabel = "service_instance";

    private const string OtherMethod = "OTHER";
    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
    private static readonly string[] KnownMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"];
    private static readonly string[] MethodLabels = [.. KnownMethods, OtherMethod];

    /// <summary>The classes an instance's counters start at 0 with, for every standard method, so rate() sees the first one.</summary>
    private static readonly string[] ClassesFromStart = ["2xx", "3xx", "4xx", "5xx"];

    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly SiteTopology _topology;
    private readonly ConcurrentDictionary<string, InstanceSeries> _instances = new(StringComparer.Ordinal);
    private IReadOnlyList<Configuration.SiteOptions>? _knownSites;

    public ProxyMetrics(GatewayMetrics metrics, SiteTopology topology)
    {
        _topology = topology;
        string[] labels = ["site", InstanceLabel, "method", "status_class"];
        _requests = metrics.Counter("gateway_requests_total", "Requests through the public proxy, by the site and instance that answered.", labels);
        // Only the combinations that happened: every one at 0 would be 17 lines each.
        _duration = metrics.LatencyHistogram("gateway_request_duration_seconds", "Time from receiving a request to finishing its answer, retries included.", labels);
        SeriesOf(None, None).StartAtZero(KnownMethods, ["5xx"]);
        StartKnownInstancesAtZero();
        // Instance lists reload while the gateway runs: the new ones start at 0 at the latest with the next scrape.
        metrics.OnScrape("gateway_requests_total", StartKnownInstancesAtZero);
    }

    public void Record(string site, string instance, string method, int statusCode, TimeSpan elapsed)
    {
        var series = SeriesOf(site, instance);
        var slot = (MethodIndex(method) * StatusClasses.Length) + StatusClassIndex(statusCode);
        series.Requests(slot).Inc();
        series.Duration(slot).Observe(elapsed.TotalSeconds);
    }

    /// <summary>A method outside the standard ones is "OTHER": a client must not be able to mint series.</summary>
    public static string MethodLabel(string method) => MethodLabels[MethodIndex(method)];

    public static string StatusClass(int statusCode) => StatusClasses[StatusClassIndex(statusCode)];

    private static int MethodIndex(string method)
    {
        for (var i = 0; i < KnownMethods.Length; i++)
        {
            if (string.Equals(KnownMethods[i], method, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return KnownMethods.Length;
    }

    private static int StatusClassIndex(int statusCode) => statusCode is >= 100 and < 600 ? (statusCode / 100) - 1 : StatusClasses.Length - 1;

    private void StartKnownInstancesAtZero()
    {
        var sites = _topology.Sites;
        if (ReferenceEquals(sites, Volatile.Read(ref _knownSites)))
        {
            return;
        }

        foreach (var site in sites)
        {
            foreach (var instance in site.Instances)
            {
                SeriesOf(site.Id, instance.Id).StartAtZero(KnownMethods, ClassesFromStart);
            }
        }

        Volatile.Write(ref _knownSites, sites);
    }

    private InstanceSeries SeriesOf(string site, string instance)
    {
        // Instance ids are unique across sites (the configuration is refused otherwise), so the id alone is the key.
        if (_instances.TryGetValue(instance, out var series) && series.Site == site)
        {
            return series;
        }

        return _instances.AddOrUpdate(
            instance,
            static (id, state) => new InstanceSeries(state.Metrics, state.Site, id),
            static (id, existing, state) => existing.Site == state.Site ? existing : new InstanceSeries(state.Metrics, state.Site, id),
            (Metrics: this, Site: site));
    }

    /// <summary>The series of one instance, each resolved on first use; a race resolves the same series twice, harmlessly.</summary>
    private sealed class InstanceSeries(ProxyMetrics metrics, string site, string instance)
    {
        private readonly Counter.Child?[] _requests = new Counter.Child?[MethodLabels.Length * StatusClasses.Length];
        private readonly Histogram.Child?[] _durations = new Histogram.Child?[MethodLabels.Length * StatusClasses.Length];

        public string Site { get; } = site;

        public Counter.Child Requests(int slot) => _requests[slot] ??= metrics._requests.WithLabels(Labels(slot));

        public Histogram.Child Duration(int slot) => _durations[slot] ??= metrics._duration.WithLabels(Labels(slot));

        public void StartAtZero(string[] methods, string[] classes)
        {
            foreach (var method in methods)
            {
                foreach (var statusClass in classes)
                {
                    Requests((MethodIndex(method) * StatusClasses.Length) + Array.IndexOf(StatusClasses, statusClass));
                }
            }
        }

        private string[] Labels(int slot) => [Site, instance, MethodLabels[slot / StatusClasses.Length], StatusClasses[slot % StatusClasses.Length]];
    }
}
