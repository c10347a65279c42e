using System.Diagnostics;

namespace Gateway.Observability;

/// <summary>
/// The span of one proxied request: a server span that continues the caller's trace (W3C traceparent), tagged with
/// the site and instance that answered and whether it took a retry. While it is current, the forwarder's HTTP
/// client sends the instance a traceparent of this trace, so the instance's own spans join it.
/// </summary>
public static class ProxySpan
{
    public const string SiteAttribute = "gateway.site";
    public const string InstanceAttribute = "gateway.instance";
    public const string RetryAttribute = "gateway.retry";

    /// <summary>
    /// Null, at the cost of one check, when no trace export is configured; null too for a request that brings no
    /// trace context and is not among the <paramref name="newTraceRatio"/> chosen to start a trace. That choice is
    /// made here, before any span exists, rather than by the exporter's sampler: an unchosen request then costs one
    /// random draw, where starting a span for the sampler to drop cost a trace id, the sampler's call and a change of
    /// <see cref="Activity.Current"/> on every request (bench/RESULTS.md). A caller's trace context is always handed to
    /// the sampler, which follows the caller's decision (parent-based).
    /// </summary>
    public static Activity? Start(HttpContext context, double newTraceRatio)
    {
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return null;
        }

        var request = context.Request;
        var caller = CallerContext(request.Headers);
        if (caller == default)
        {
            if (!StartsNewTrace(newTraceRatio, Random.Shared))
            {
                // No span, so no traceparent for the instance (ProxySpanPropagation writes only a proxy span's): it
                // is never told to record the request.
                return null;
            }

            // With its request logging turned on (GatewayHost.HostingDiagnosticsCategory), ASP.NET Core starts an
            // activity for every request, which no exporter here records: a span parented to it would point at a
            // span no collector ever receives. Without a caller to continue, the proxy span starts a new trace
            // instead. Only this middleware's async flow sees the change.
            Activity.Current = null;
        }

        var span = GatewayTelemetry.Source.StartActivity($"proxy {ProxyMetrics.MethodLabel(request.Method)}", ActivityKind.Server, caller);
        span?.SetTag("http.request.method", request.Method);
        span?.SetTag("url.path", request.Path.Value);
        return span;
    }

    /// <summary>Whether a request without a caller's trace context starts a trace: in the ratio configured.</summary>
    public static bool StartsNewTrace(double ratio, Random random) => ratio >= 1 || random.NextDouble() < ratio;

    public static void Finish(Activity span, string site, string instance, int statusCode, bool failed)
    {
        span.SetTag(SiteAttribute, site);
        span.SetTag(InstanceAttribute, instance);
        span.SetTag(RetryAttribute, span.GetTagItem(RetryAttribute) is true);
        span.SetTag("http.response.status_code", statusCode);
        if (failed || statusCode >= 500)
        {
            span.SetStatus(ActivityStatusCode.Error);
        }
    }

    /// <summary>The proxy span of the request being forwarded, when one is being recorded.</summary>
    public static Activity? Current => Activity.Current is { } current && current.Source == GatewayTelemetry.Source ? current : null;

    private static ActivityContext CallerContext(IHeaderDictionary headers)
    {
        DistributedContextPropagator.Current.ExtractTraceIdAndState(headers, ReadHeader, out var traceParent, out var traceState);
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var caller) ? caller : default;
    }

    private static void ReadHeader(object? carrier, string name, out string? value, out IEnumerable<string>? values)
    {
        values = null;
        value = ((IHeaderDictionary)carrier!)[name];
    }
}
