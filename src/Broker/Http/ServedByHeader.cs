namespace Broker.Http;

internal static class ServedByHeader
{
    public const string Name = "X-Served-By";

    /// <summary>
    /// Stamps every response with this instance's id so clients, the gateway's tests and operators can see who
    /// answered. Set when the response starts, so it survives handlers and error pages that clear headers.
    /// </summary>
    public static IApplicationBuilder UseServedByHeader(this IApplicationBuilder app, string instanceId) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                context.Response.Headers[Name] = instanceId;
                return Task.CompletedTask;
            });
            return next(context);
        });
}
