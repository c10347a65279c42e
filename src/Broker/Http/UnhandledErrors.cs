using Broker.Database;
using Broker.Storage;

namespace Broker.Http;

/// <summary>
/// Turns exceptions that escape a handler into JSON errors: the client's fault as 4xx, outages worth retrying
/// (filestore or database unavailable, typically mid-failover) as 503 with Retry-After, anything else as 500.
/// Each is logged at the level it deserves, so client mistakes do not read like broker bugs.
/// </summary>
internal static class UnhandledErrors
{
    public static IApplicationBuilder UseJsonErrors(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(UnhandledErrors).FullName!);
        return app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                logger.LogInformation("Client went away during {Method} {Path}", context.Request.Method, context.Request.Path);
            }
            catch (Exception failure) when (!context.Response.HasStarted)
            {
                var (statusCode, message) = ClassifyAndLog(failure, context, logger);
                context.Response.Clear();
                if (statusCode == StatusCodes.Status503ServiceUnavailable)
                {
                    // The outage is usually a failover in progress, over within seconds.
                    context.Response.Headers.RetryAfter = "1";
                }

                await ErrorResults.Json(statusCode, message).ExecuteAsync(context);
            }
        });
    }

    private static (int StatusCode, string Message) ClassifyAndLog(Exception failure, HttpContext context, ILogger logger)
    {
        var request = $"{context.Request.Method} {context.Request.Path}";
        switch (failure)
        {
            case BadHttpRequestException badRequest:
                // Kestrel's own verdict on the request, e.g. a body over the size limit (413) or cut short (400).
                logger.LogInformation("Rejected {Request}: {Reason}", request, badRequest.Message);
                return (badRequest.StatusCode, badRequest.Message);
            case FilestoreUnavailableException:
                logger.LogWarning("{Request} failed, filestore unavailable: {Reason}", request, failure.Message);
                return (StatusCodes.Status503ServiceUnavailable, failure.Message);
            case var _ when DatabaseErrors.IsTransient(failure):
                logger.LogWarning("{Request} failed, database unavailable after retries: {Reason}", request, DatabaseErrors.Describe(failure));
                return (StatusCodes.Status503ServiceUnavailable, "database temporarily unavailable");
            default:
                logger.LogError(failure, "{Request} failed", request);
                return (StatusCodes.Status500InternalServerError, "internal error");
        }
    }
}
