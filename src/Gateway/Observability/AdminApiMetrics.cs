using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Observability;

/// <summary>Admin API calls by endpoint and result, counted by an endpoint filter on the authenticated routes.</summary>
public sealed class AdminApiMetrics
{
    private readonly Counter<long> _requests;
    private readonly Counter<long> _authRefusals;
    private readonly Counter<long> _auditFailures;

    public AdminApiMetrics(MetricsCollector collector)
    {
        var meter = collector.Meter;
        _requests = meter.CreateCounter<long>(
            "gateway.admin.requests",
            "{request}",
            "Admin API calls by endpoint and result: ok, unauthorized (missing or wrong token), rejected (a bad request, nothing changed) or failed.");
        _authRefusals = meter.CreateCounter<long>(
            "gateway.admin.auth.refusals",
            "{request}",
            "Admin calls refused before any action: wrong_token (missing or wrong token, 401) or locked_out (too many failures from the address, 429 without looking at the token).");
        _auditFailures = meter.CreateCounter<long>(
            "gateway.admin.audit.failures",
            "{entry}",
            "Audit log appends that failed; while any entry is unwritten, state-changing admin calls are refused.");

        // Every series from the start, so an alert on them sees 0 rather than nothing.
        _authRefusals.Add(0, new TagList { { "reason", "wrong_token" } });
        _authRefusals.Add(0, new TagList { { "reason", "locked_out" } });
        _auditFailures.Add(0);
    }

    public void AuthRefused(bool lockedOut) => _authRefusals.Add(1, new TagList { { "reason", lockedOut ? "locked_out" : "wrong_token" } });

    public void AuditAppendFailed() => _auditFailures.Add(1);

    /// <summary>The endpoint filter; add it before the token check so refused calls are counted too.</summary>
    public static async ValueTask<object?> CountAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var http = invocation.HttpContext;
        var metrics = http.RequestServices.GetRequiredService<AdminApiMetrics>();
        var endpoint = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unknown";
        try
        {
            var result = await next(invocation);
            metrics.Record(endpoint, ResultOf(result is IStatusCodeHttpResult { StatusCode: { } status } ? status : http.Response.StatusCode));
            return result;
        }
        catch
        {
            metrics.Record(endpoint, "failed");
            throw;
        }
    }

    public static string ResultOf(int statusCode) => statusCode switch
    {
        < 400 => "ok",
        StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden => "unauthorized",
        < 500 => "rejected",
        _ => "failed",
    };

    private void Record(string endpoint, string result) => _requests.Add(1, new TagList { { "endpoint", endpoint }, { "result", result } });
}
