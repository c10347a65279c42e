using System.Diagnostics;
using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Options;

namespace Gateway.Observability;

/// <summary>
/// First in the proxy pipeline, so it sees every proxied request, including those refused before any instance was
/// chosen (counted with site and instance "none"), and times the whole of it, retries included.
/// </summary>
public sealed class ProxyTelemetryMiddleware(RequestDelegate next, ProxyMetrics metrics, IOptions<GatewayOptions> options)
{
    private readonly double _newTraceRatio = options.Value.Observability.TraceSampleRatio;

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        using var span = ProxySpan.Start(context, _newTraceRatio);
        var failed = true;
        try
        {
            await next(context);
            failed = false;
        }
        finally
        {
            // An exception escaping the pipeline becomes a 500 after this middleware, whatever the status says now.
            var statusCode = failed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
            var destination = context.GetReverseProxyFeature().ProxiedDestination;
            var site = destination is null ? ProxyMetrics.None : ProxyDestinations.SiteOf(destination);
            var instance = destination?.DestinationId ?? ProxyMetrics.None;
            metrics.Record(site, instance, context.Request.Method, statusCode, Stopwatch.GetElapsedTime(started));
            if (span is not null)
            {
                ProxySpan.Finish(span, site, instance, statusCode, failed);
            }
        }
    }
}
