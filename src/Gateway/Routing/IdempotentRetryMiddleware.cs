using Microsoft.AspNetCore.WebUtilities;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Routing;

/// <summary>
/// Sends an idempotent request once more, to another candidate, when its first instance refused or dropped the
/// connection before answering (<see cref="TransportFaults.MayRetry"/>), or answered 502/503/504 and
/// <see cref="HoldBackRetryableAnswerTransform"/> kept that answer from the client. Wraps load balancing, passive
/// health and forwarding, so the failed instance has already been reported before the retry picks again.
/// </summary>
public sealed partial class IdempotentRetryMiddleware(RequestDelegate next, ILogger<IdempotentRetryMiddleware> logger)
{
    /// <summary>A write is never retried, so it is forwarded without an async state machine of its own.</summary>
    public Task InvokeAsync(HttpContext context) =>
        RequestKinds.Of(context.Request.Method) == RequestKind.Read ? ForwardWithOneRetryAsync(context) : next(context);

    private async Task ForwardWithOneRetryAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var read = new RetryableRead(proxy.AvailableDestinations);
        context.Features.Set(read);
        await next(context);

        var failed = proxy.ProxiedDestination;
        var error = context.Features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
        if (failed is null || (read.HeldBackStatus == 0 && !TransportFaults.MayRetry(RequestKind.Read, error, context.Response.HasStarted, attempt: 1)))
        {
            return;
        }

        var failure = read.HeldBackStatus != 0 ? $"answered {read.HeldBackStatus}" : $"failed before answering ({error})";
        var others = read.Others(failed);
        if (others.Count == 0)
        {
            Log.NoOtherInstance(logger, context.Request.Method, context.Request.Path, failed.DestinationId, failure);
            if (read.HeldBackStatus != 0)
            {
                await AnswerHeldBackAsync(context, read.HeldBackStatus, $"instance {failed.DestinationId} {failure} and no other healthy instance was left to retry on");
            }

            return;
        }

        Log.Retrying(logger, context.Request.Method, context.Request.Path, failed.DestinationId, failure);
        // The retry's answer goes to the client, whatever it is.
        context.Features.Set<RetryableRead>(null);
        context.Features.Set<IForwarderErrorFeature>(null);
        context.Response.Clear();
        proxy.ProxiedDestination = null;
        proxy.AvailableDestinations = others;
        await next(context);
    }

    /// <summary>
    /// The transform held the answer back because another instance was there, but passive health took that one out
    /// before the retry: the client gets the status, with the gateway's account instead of the instance's body.
    /// </summary>
    private static Task AnswerHeldBackAsync(HttpContext context, int status, string reason)
    {
        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.Headers.RetryAfter = "1";
        return context.Response.WriteAsJsonAsync(new { error = ReasonPhrases.GetReasonPhrase(status).ToLowerInvariant(), reason });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Retrying {Method} {Path} on another instance: {Destination} {Failure}")]
        public static partial void Retrying(ILogger logger, string method, PathString path, string destination, string failure);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Method} {Path}: {Destination} {Failure} and no other healthy instance is left to retry it on")]
        public static partial void NoOtherInstance(ILogger logger, string method, PathString path, string destination, string failure);
    }
}
