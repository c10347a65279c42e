using System.Diagnostics;

namespace Gateway.Observability;

/// <summary>
/// Sits inside the retry loop (after <see cref="Routing.IdempotentRetryMiddleware"/>), so it runs once per attempt:
/// it tags the request's span with the instance each attempt went to, and an attempt that finds an instance already
/// tagged is a retry. Does nothing when no span is being recorded.
/// </summary>
public sealed class ProxyAttemptTracingMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context) => ProxySpan.Current is { } span ? TraceAttemptAsync(context, span) : next(context);

    private async Task TraceAttemptAsync(HttpContext context, Activity span)
    {
        if (span.GetTagItem(ProxySpan.InstanceAttribute) is not null)
        {
            span.SetTag(ProxySpan.RetryAttribute, true);
        }

        await next(context);
        span.SetTag(ProxySpan.InstanceAttribute, context.GetReverseProxyFeature().ProxiedDestination?.DestinationId);
    }
}
