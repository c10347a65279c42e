using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// Narrows the healthy instances to those that may take this request: drained ones never take a new request, and of
/// the rest <see cref="SiteSelectionDecision"/> decides (so a drained active site is, for writes, like one with no healthy
/// instance). Answers 503 with Retry-After at once when none may: a client is never left hanging for an instance
/// that is not there.
/// </summary>
public sealed partial class SiteSelectionMiddleware(
    RequestDelegate next,
    ActiveSiteState activeSite,
    DrainState drains,
    IOptions<GatewayOptions> options,
    ILogger<SiteSelectionMiddleware> logger)
{
    private readonly WritePolicy _policy = options.Value.Routing.WritePolicy;

    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var drained = drains.Current;
        var routable = drained.Routable(proxy.AvailableDestinations, ProxyDestinations.SiteOf, destination => destination.DestinationId);
        var choice = SiteSelectionDecision.Decide(RequestKinds.Of(context.Request.Method), routable, ProxyDestinations.SiteOf, activeSite.ActiveSite, _policy);
        if (choice.IsRefusal)
        {
            var reason = drained.IsEmpty ? choice.Reason : $"{choice.Reason} (drained instances not counted; drained: {drained})";
            Log.Refused(logger, context.Request.Method, context.Request.Path, reason);
            return RefuseAsync(context, reason);
        }

        proxy.AvailableDestinations = choice.Candidates;
        return next(context);
    }

    private static Task RefuseAsync(HttpContext context, string reason)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "1";
        return context.Response.WriteAsJsonAsync(new { error = "service unavailable", reason });
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Refused {Method} {Path} with 503: {Reason}")]
        public static partial void Refused(ILogger logger, string method, PathString path, string reason);
    }
}
