namespace Gateway.Coordinator.Admin;

/// <summary>The admin API: liveness without authentication, everything else behind the bearer token.</summary>
public static partial class AdminEndpoints
{
    public static void Map(WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));

        var authenticated = app.MapGroup("").AddEndpointFilter(RequireTokenAsync);
        authenticated.MapGet("/status", (GatewayStatusReader status) => Results.Json(status.Read()));
    }

    private static async ValueTask<object?> RequireTokenAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        var token = http.RequestServices.GetRequiredService<AdminToken>();
        if (token.Matches(AdminToken.FromAuthorizationHeader(http.Request.Headers.Authorization)))
        {
            return await next(invocation);
        }

        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminEndpoints));
        Log.Unauthorized(logger, http.Request.Method, http.Request.Path, http.Connection.RemoteIpAddress?.ToString());
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Json(new { error = "missing or wrong admin token (Authorization: Bearer <token>)" }, statusCode: StatusCodes.Status401Unauthorized);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Admin {Method} {Path} from {Remote} refused: missing or wrong token")]
        public static partial void Unauthorized(ILogger logger, string method, PathString path, string? remote);
    }
}
