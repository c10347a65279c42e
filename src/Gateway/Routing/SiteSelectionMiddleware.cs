using Gateway.Configuration;
using Gateway.Coordinator;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// Narrows the healthy instances to those that may take this request (<see cref="SiteSelection"/>), or answers 503
/// with Retry-After at once when none may: a client is never left hanging for an instance that is not there.
/// </summary>
public sealed partial class SiteSelectionMiddleware(
    RequestDelegate next,
    ActiveSiteState activeSite,
    IOptions<GatewayOptions> options,
    ILogger<SiteSelectionMiddleware> logger)
{
    public const string SiteMetadataKey = "site";

    private readonly WritePolicy _policy = options.Value.Routing.WritePolicy;

    public Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var choice = SiteSelection.Choose(
            RequestKinds.Of(context.Request.Method), proxy.AvailableDestinations, SiteOf, activeSite.ActiveSite, _policy);
        if (choice.IsRefusal)
        {
            Log.Refused(logger, context.Request.Method, context.Request.Path, choice.Reason);
            return RefuseAsync(context, choice.Reason);
        }

        proxy.AvailableDestinations = choice.Candidates;
        return next(context);
    }

    public static string SiteOf(DestinationState destination) =>
        destination.Model.Config.Metadata?.GetValueOrDefault(SiteMetadataKey) ?? "";

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
