using System.Globalization;
using System.Text;
using System.Text.Json;
using Gateway.Coordinator.Audit;

namespace Gateway.Coordinator.Admin;

/// <summary>
/// Puts admin calls in the <see cref="AuditLog"/>: every state-changing one (any method but GET and HEAD) and every
/// refusal or failure (status 400 and up), with the caller, the body and the answer's own sentence. Reads that
/// succeed are not audited: the CLI polls the status while an operation runs, and a read changes nothing.
/// </summary>
public static class AdminAudit
{
    public const int DefaultReadLimit = 100;
    public const int MaxReadLimit = 10_000;

    /// <summary>The outermost admin filter after counting: captures the body, runs the call, appends its entry.</summary>
    public static async ValueTask<object?> RecordAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        var services = http.RequestServices;
        var call = await AdminCall.CaptureAsync(http.Request, services.GetRequiredService<AdminOptions>().MaxRequestBodySize);
        http.Features.Set(call);

        object? result;
        try
        {
            result = await next(invocation);
        }
        catch (Exception e)
        {
            Append(http, call, StatusCodes.Status500InternalServerError, $"failed: {e.GetType().Name}");
            throw;
        }

        var status = result is IStatusCodeHttpResult { StatusCode: { } code } ? code : http.Response.StatusCode;
        if ((ChangesState(http.Request) || status >= 400) && !call.SkipAudit)
        {
            Append(http, call, status, SentenceOf(result, status));
        }

        return result;
    }

    /// <summary>
    /// Refuses a state-changing call with 503 while the audit log has unwritten entries (after retrying them): the
    /// call would not be accounted for. Runs after the token check, so strangers learn nothing about the log.
    /// </summary>
    public static async ValueTask<object?> RequireWritableLogForChangesAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        if (!ChangesState(http.Request) || http.RequestServices.GetRequiredService<AuditLog>().EnsureWritable(out var error))
        {
            return await next(invocation);
        }

        http.Response.Headers.RetryAfter = "5";
        return AdminRequests.Problem(
            StatusCodes.Status503ServiceUnavailable, $"the audit log cannot be written ({error}); state-changing admin calls are refused until it can, nothing was changed");
    }

    /// <summary>GET /admin/audit?limit=N: the last N entries (default 100), oldest first.</summary>
    public static IResult Read(HttpRequest request, AuditLog audit)
    {
        var limit = DefaultReadLimit;
        if (request.Query.TryGetValue("limit", out var given)
            && !(int.TryParse(given, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxReadLimit))
        {
            return AdminRequests.Problem(StatusCodes.Status400BadRequest, $"limit must be a whole number from 1 to {MaxReadLimit}, not '{given}'");
        }

        return Results.Json(audit.ReadLast(limit), AdminRequests.Json);
    }

    private static bool ChangesState(HttpRequest request) => !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method);

    private static void Append(HttpContext http, AdminCall call, int status, string result)
    {
        var body = call.Body.AsSpan(0, Math.Min(call.Body.Length, AuditLog.MaxBodyBytes));
        var entry = new AuditEntry(
            http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(),
            AdminCall.CallerOf(http),
            http.Request.Method,
            http.Request.Path + http.Request.QueryString,
            body.IsEmpty ? null : Encoding.UTF8.GetString(body),
            call.BodyTooLarge || call.Body.Length > AuditLog.MaxBodyBytes,
            status,
            result);
        http.RequestServices.GetRequiredService<AuditLog>().Append(entry);
    }

    /// <summary>The answer's own sentence: an error's "error", a report's "summary"; otherwise just whether it went through.</summary>
    private static string SentenceOf(object? result, int status)
    {
        if (result is IValueHttpResult { Value: { } value })
        {
            var json = JsonSerializer.SerializeToElement(value, value.GetType(), AdminRequests.Json);
            foreach (var name in new[] { "error", "summary" })
            {
                if (json.ValueKind == JsonValueKind.Object && json.TryGetProperty(name, out var sentence) && sentence.ValueKind == JsonValueKind.String)
                {
                    return sentence.GetString()!;
                }
            }
        }

        return status < 400 ? "ok" : "refused";
    }
}
