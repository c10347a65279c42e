using Prometheus;

namespace Gateway.Observability;

/// <summary>Admin API calls by endpoint and result, counted by an endpoint filter on the authenticated routes.</summary>
public sealed class AdminApiMetrics
{
    private static readonly string[] CallResults = ["ok", "unauthorized", "rejected", "failed"];

    private readonly Counter _requests;
    private readonly Counter.Child _wrongToken;
    private readonly Counter.Child _lockedOut;
    private readonly Counter _auditFailures;

    public AdminApiMetrics(GatewayMetrics metrics)
    {
        _requests = metrics.Counter(
            "gateway_admin_requests_total",
            "Admin API calls by endpoint and result: ok, unauthorized (missing or wrong token), rejected (a bad request, nothing changed) or failed.",
            "endpoint", "result");
        var authRefusals = metrics.Counter(
            "gateway_admin_auth_refusals_total",
            "Admin calls refused before any action: wrong_token (missing or wrong token, 401) or locked_out (too many failures from the address, 429 without looking at the token).",
            "reason");
        _auditFailures = metrics.Counter(
            "gateway_admin_audit_failures_total",
            "Audit log appends that failed; while any entry is unwritten, state-changing admin calls are refused.");

        // Every series from the start, so an alert on them sees 0 rather than nothing.
        _wrongToken = authRefusals.WithLabels("wrong_token");
        _lockedOut = authRefusals.WithLabels("locked_out");
    }

    /// <summary>Every endpoint's calls from 0 for each result, so an alert on failed or refused admin calls sees the first one.</summary>
    public void StartAtZero(IEnumerable<string> endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            foreach (var result in CallResults)
            {
                _requests.WithLabels(endpoint, result);
            }
        }
    }

    public void AuthRefused(bool lockedOut) => (lockedOut ? _lockedOut : _wrongToken).Inc();

    public void AuditAppendFailed() => _auditFailures.Inc();

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

    private void Record(string endpoint, string result) => _requests.WithLabels(endpoint, result).Inc();
}
