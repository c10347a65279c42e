using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Observability;

/// <summary>
/// YARP's client for the instances (requests and active health probes), without .NET's diagnostics handler. That
/// handler starts an HTTP client span for every request whenever anything listens to its source or an activity is
/// current: with traces exported, every request paid a call of the sampler, the nine in ten not traced included, and
/// every traced one a second span to export (bench/RESULTS.md). The proxy span carries the instance, the retry and
/// the timing, and <see cref="ProxySpanPropagation"/> hands it to the instance.
/// </summary>
public sealed class ForwarderClientFactory(ILogger<ForwarderHttpClientFactory> logger) : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        // No propagator, no diagnostics handler in the client's chain (SocketsHttpHandler adds it only with one).
        handler.ActivityHeadersPropagator = null;
    }
}
