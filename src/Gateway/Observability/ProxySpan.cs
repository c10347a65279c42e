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

    /// <summary>Null, at the cost of one check, when no trace export is configured.</summary>
    public static Activity? Start(HttpContext context)
    {
        if (!GatewayTelemetry.Source.HasListeners())
        {
            return null;
        }

        var request = context.Request;
        var caller = CallerContext(request.Headers);
        if (caller == default)
        {
            // ASP.NET Core starts an activity for every request, for its log scopes, and no exporter here records
            // it: a span parented to it would point at a span no collector ever receives. Without a caller to
            // continue, the proxy span starts a new trace instead. Only this middleware's async flow sees the change.
            Activity.Current = null;
        }

        var span = GatewayTelemetry.Source.StartActivity($"proxy {ProxyMetrics.MethodLabel(request.Method)}", ActivityKind.Server, caller);
        span?.SetTag("http.request.method", request.Method);
        span?.SetTag("url.path", request.Path.Value);
        return span;
    }

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
