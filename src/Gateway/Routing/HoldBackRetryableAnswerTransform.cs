using Yarp.ReverseProxy.Transforms;

namespace Gateway.Routing;

/// <summary>
/// Keeps a 502/503/504 answer to a read from reaching the client when the read will be retried on another instance
/// (<see cref="RetryableAnswers.HoldBack"/>): YARP then copies neither its body nor its trailers, and nothing has been
/// sent yet, so <see cref="IdempotentRetryMiddleware"/> can clear it and try again. Any other answer streams through
/// as before; nothing is buffered.
/// </summary>
public sealed class HoldBackRetryableAnswerTransform : ResponseTransform
{
    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        // The status test first: it is all that an ordinary answer costs.
        if (context.ProxyResponse is { } response && RetryableAnswers.IsRetryableStatus((int)response.StatusCode))
        {
            HoldBackIfRetried(context, (int)response.StatusCode);
        }

        return ValueTask.CompletedTask;
    }

    private static void HoldBackIfRetried(ResponseTransformContext context, int status)
    {
        var http = context.HttpContext;
        var failed = http.GetReverseProxyFeature().ProxiedDestination;
        if (http.Features.Get<RetryableRead>() is not { } read || failed is null)
        {
            return;
        }

        var request = http.Request;
        var hasBody = request.ContentLength > 0 || RequestFraming.IsChunked(request.Headers);
        if (RetryableAnswers.HoldBack(status, hasBody, read.HasOther(failed)))
        {
            context.SuppressResponseBody = true;
            read.HeldBackStatus = status;
        }
    }
}
