using Yarp.ReverseProxy.Transforms;

namespace Gateway.Observability;

/// <summary>
/// How an instance learns the trace it serves: the proxy span itself goes into the forwarded request's traceparent
/// (and tracestate), set by this request transform once YARP has copied the caller's headers. The forwarder's HTTP
/// client starts no span of its own (<see cref="ForwarderClientFactory"/>). A request without a proxy span keeps
/// whatever trace context its caller sent, like any other header.
/// </summary>
public sealed class ProxySpanPropagation : RequestTransform
{
    private const string TraceParentHeader = "traceparent";
    private const string TraceStateHeader = "tracestate";

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        if (ProxySpan.Current is { } span)
        {
            var headers = context.ProxyRequest.Headers;
            headers.Remove(TraceParentHeader);
            headers.Remove(TraceStateHeader);
            // A W3C activity's id is its traceparent: version, trace id, span id and the sampled flag.
            headers.TryAddWithoutValidation(TraceParentHeader, span.Id);
            if (span.TraceStateString is { } state)
            {
                headers.TryAddWithoutValidation(TraceStateHeader, state);
            }
        }

        return default;
    }
}
