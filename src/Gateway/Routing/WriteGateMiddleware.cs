namespace Gateway.Routing;

/// <summary>
/// Runs every write through the <see cref="WriteGate"/>: held while a switch is under way, 503 with Retry-After past
/// the hold bounds. Sits before site selection, so a released write goes to the new active site.
/// </summary>
public sealed partial class WriteGateMiddleware(RequestDelegate next, WriteGate gate, ILogger<WriteGateMiddleware> logger)
{
    /// <summary>Reads pass straight through, without an async state machine of their own (one allocation less per read).</summary>
    public Task InvokeAsync(HttpContext context) =>
        RequestKinds.Of(context.Request.Method) == RequestKind.Read ? next(context) : AdmitWriteAsync(context);

    private async Task AdmitWriteAsync(HttpContext context)
    {
        if (await gate.AdmitAsync(context.RequestAborted) == WriteAdmission.Refused)
        {
            Log.Refused(logger, context.Request.Method, context.Request.Path);
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "1";
            await context.Response.WriteAsJsonAsync(new { error = "service unavailable", reason = "writes are held while the active site changes, and the hold bound was reached" });
            return;
        }

        try
        {
            await next(context);
        }
        finally
        {
            gate.Completed();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Refused {Method} {Path} with 503: writes held for a site switch past the hold bound")]
        public static partial void Refused(ILogger logger, string method, PathString path);
    }
}
