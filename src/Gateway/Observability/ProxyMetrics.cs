using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Observability;

/// <summary>
/// Proxied requests: a count and a latency histogram by site, instance, method and status class. Every tag value
/// comes from a small fixed set (configured ids, known methods, five classes), so the series stay few and recording
/// allocates nothing.
/// </summary>
public sealed class ProxyMetrics
{
    /// <summary>The site and instance of a request refused before any instance was chosen (503, none healthy).</summary>
    public const string None = "none";

    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];
    private static readonly string[] KnownMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"];

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;

    public ProxyMetrics(MetricsCollector collector)
    {
        var meter = collector.Meter;
        _requests = meter.CreateCounter<long>("gateway.requests", "{request}", "Requests through the public proxy, by the site and instance that answered.");
        _duration = meter.CreateHistogram<double>(
            "gateway.request.duration", "s", "Time from receiving a request to finishing its answer, retries included.");
    }

    public void Record(string site, string instance, string method, int statusCode, TimeSpan elapsed)
    {
        var tags = new TagList
        {
            { "site", site },
            { "instance", instance },
            { "method", MethodLabel(method) },
            { "status_class", StatusClass(statusCode) },
        };
        _requests.Add(1, tags);
        _duration.Record(elapsed.TotalSeconds, tags);
    }

    /// <summary>A method outside the standard ones is "OTHER": a client must not be able to mint series.</summary>
    public static string MethodLabel(string method)
    {
        foreach (var known in KnownMethods)
        {
            if (string.Equals(known, method, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return "OTHER";
    }

    public static string StatusClass(int statusCode) => statusCode is >= 100 and < 600 ? StatusClasses[(statusCode / 100) - 1] : "other";
}
