using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// Sends an idempotent request once more, to another candidate, when its first instance refused or dropped the
/// connection before answering (<see cref="TransportFaults.MayRetry"/>). Wraps load balancing, passive health and
/// forwarding, so the failed instance has already been reported before the retry picks again.
/// </summary>
public sealed partial class IdempotentRetryMiddleware(RequestDelegate next, ILogger<IdempotentRetryMiddleware> logger)
{
    /// <summary>A write is never retried, so it is forwarded without an async state machine of its own.</summary>
    public Task InvokeAsync(HttpContext context) =>
        RequestKinds.Of(context.Request.Method) == RequestKind.Read ? ForwardWithOneRetryAsync(context) : next(context);

    private async Task ForwardWithOneRetryAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var candidates = proxy.AvailableDestinations;
        await next(context);

        var error = context.Features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
        var failed = proxy.ProxiedDestination;
        if (failed is null || !TransportFaults.MayRetry(RequestKind.Read, error, context.Response.HasStarted, attempt: 1))
        {
            return;
        }

        var others = Others(candidates, failed);
        if (others.Count == 0)
        {
            Log.NoOtherInstance(logger, context.Request.Method, context.Request.Path, failed.DestinationId);
            return;
        }

        Log.Retrying(logger, context.Request.Method, context.Request.Path, failed.DestinationId, error);
        context.Features.Set<IForwarderErrorFeature>(null);
        context.Response.Clear();
        proxy.ProxiedDestination = null;
        proxy.AvailableDestinations = others;
        await next(context);
    }

    private static List<DestinationState> Others(IReadOnlyList<DestinationState> candidates, DestinationState failed)
    {
        var others = new List<DestinationState>(candidates.Count);
        foreach (var candidate in candidates)
        {
            if (candidate != failed && candidate.Health.Passive != DestinationHealth.Unhealthy)
            {
                others.Add(candidate);
            }
        }

        return others;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Retrying {Method} {Path} on another instance: {Destination} failed before answering ({Error})")]
        public static partial void Retrying(ILogger logger, string method, PathString path, string destination, ForwarderError error);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Method} {Path} failed on {Destination} and no other healthy instance is left to retry it on")]
        public static partial void NoOtherInstance(ILogger logger, string method, PathString path, string destination);
    }
}
