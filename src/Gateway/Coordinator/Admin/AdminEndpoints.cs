using Gateway.Cluster;
using Gateway.Coordinator.Pausing;
using Gateway.Coordinator.Supervision;
using Gateway.Coordinator.Switching;
using Gateway.Database.Failover;
using Gateway.Filestore;
using Gateway.Model;
using Gateway.Observability;
using Gateway.Operations;

namespace Gateway.Coordinator.Admin;

public sealed record PromoteRequest(string To, bool Force = false);

public sealed record RejoinRequest(string Site, RejoinMethod Method = RejoinMethod.Auto);

public sealed record SwitchoverRequest(string To);

public sealed record FailoverRequest(string To, bool Force = false);

/// <summary>No parameters: failback always rebuilds the site that is not active. An empty object, so unknown fields are still refused.</summary>
public sealed record FailbackRequest;

/// <summary>Pause automatic failover: why (shown in the status and the alarm) and for how long (hh:mm:ss).</summary>
public sealed record PauseRequest(string Reason, TimeSpan For);

/// <summary>No parameters (an empty object, so unknown fields are still refused).</summary>
public sealed record ResumeRequest;

/// <summary>No parameters (an empty object, so unknown fields are still refused).</summary>
public sealed record ReleaseDeletesRequest;

/// <summary>
/// The admin API: liveness without authentication, everything else behind the bearer token. Operations run to their
/// end even if the caller hangs up (a half-done promotion helps nobody); only the gateway's shutdown cancels them.
/// </summary>
public static class AdminEndpoints
{
    /// <summary>Maps the admin API and returns its authenticated group, where other features map their own admin endpoints.</summary>
    public static RouteGroupBuilder Map(WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        // For a load balancer's or keepalived's check: in cluster mode ready only with a trusted session and the current epoch read.
        app.MapGet("/readyz", (IServiceProvider services) => services.GetService<IAdminLeadership>()?.NotReady is { } why
            ? Results.Text($"not ready: {why}\n", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ready\n"));

        // Counting and auditing first, so calls the token check refuses are counted and audited too; the body limit and
        // the audit log's health after the token check, so a stranger learns nothing from them.
        var authenticated = app.MapGroup("/admin")
            .AddEndpointFilter(AdminApiMetrics.CountAsync)
            .AddEndpointFilter(AdminAudit.RecordAsync)
            .AddEndpointFilter(AdminAuthorization.RequireTokenAsync)
            .AddEndpointFilter(AdminCall.RequireBodyWithinLimitAsync)
            .AddEndpointFilter(AdminLeadership.RedirectToLeaderAsync)
            .AddEndpointFilter(AdminAudit.RequireWritableLogForChangesAsync);
        authenticated.MapGet("/status", async (GatewayStatusReader status, IServiceProvider services, CancellationToken cancellation) =>
        {
            var read = status.Read();
            // Cluster mode: every gateway, who leads, and the epoch each routes by.
            if (services.GetService<IAdminLeadership>() is { } cluster)
            {
                read = read with { Cluster = await cluster.ReadStatusAsync(cancellation) };
            }

            return Results.Json(read, AdminRequests.Json);
        });
        authenticated.MapGet("/audit", AdminAudit.Read);
        DrainEndpoints.Map(authenticated);
        authenticated.MapPost("/database/promote", PromoteAsync);
        authenticated.MapPost("/database/rejoin", RejoinAsync);
        authenticated.MapGet("/database/history", (DatabaseFailover failover) => Results.Json(failover.History, AdminRequests.Json));
        authenticated.MapGet("/database/rejoins", (OperationHistory history) => Results.Json(history.Read<RejoinReport>(HistoryKinds.Rejoin), AdminRequests.Json));
        authenticated.MapPost("/switchover", SwitchoverAsync);
        authenticated.MapPost("/failover", FailoverAsync);
        authenticated.MapPost("/failback", FailbackAsync);
        authenticated.MapGet("/history", (SiteSwitch sites) => Results.Json(sites.History, AdminRequests.Json));
        authenticated.MapPost("/pause", PauseAsync);
        authenticated.MapPost("/resume", ResumeAsync);
        authenticated.MapPost("/filestore/release-deletes", ReleaseDeletesAsync);
        return authenticated;
    }

    private static async Task<IResult> PauseAsync(HttpRequest request, AutomaticFailoverPause pause, TimeProvider time)
    {
        var (body, error) = await AdminRequests.ReadAsync<PauseRequest>(request);
        if (body is null)
        {
            return error!;
        }

        if (string.IsNullOrWhiteSpace(body.Reason))
        {
            return AdminRequests.Problem(StatusCodes.Status400BadRequest, "reason: must say why automatic failover is paused (it is shown in the status and the alarm)");
        }

        if (body.For <= TimeSpan.Zero || body.For > MaxPause)
        {
            return AdminRequests.Problem(StatusCodes.Status400BadRequest, $"for: {body.For} must be more than zero and at most {MaxPause} (hh:mm:ss, or d.hh:mm:ss)");
        }

        string? refusal;
        try
        {
            refusal = pause.Pause(body.Reason.Trim(), AdminCall.CallerOf(request.HttpContext), body.For, time.GetUtcNow());
        }
        catch (StateNotSavedException e)
        {
            return AdminRequests.Problem(StatusCodes.Status409Conflict, $"automatic failover was not paused: {e.Message}");
        }
        catch (EtcdUnavailableException e)
        {
            return AdminRequests.Problem(StatusCodes.Status503ServiceUnavailable, $"automatic failover may or may not be paused (GET /admin/status tells): {e.Message}");
        }

        return refusal is null
            ? Results.Json(new { summary = $"automatic failover paused until {pause.Current!.Until:u}: {pause.Current.Reason}", pause = pause.Current }, AdminRequests.Json)
            : AdminRequests.Problem(StatusCodes.Status409Conflict, refusal);
    }

    private static async Task<IResult> ResumeAsync(HttpRequest request, AutomaticFailoverPause pause)
    {
        var (_, error) = await AdminRequests.ReadAsync<ResumeRequest>(request);
        if (error is not null)
        {
            return error;
        }

        PauseStatus? ended;
        try
        {
            ended = pause.Resume();
        }
        catch (StateNotSavedException e)
        {
            return AdminRequests.Problem(StatusCodes.Status409Conflict, $"automatic failover was not resumed: {e.Message}");
        }
        catch (EtcdUnavailableException e)
        {
            return AdminRequests.Problem(StatusCodes.Status503ServiceUnavailable, $"automatic failover may or may not be resumed (GET /admin/status tells): {e.Message}");
        }

        return ended is not null
            ? Results.Json(new { summary = $"automatic failover resumed (it was paused by {ended.By} since {ended.Since:u}: {ended.Reason})" }, AdminRequests.Json)
            : AdminRequests.Problem(StatusCodes.Status409Conflict, "automatic failover is not paused: nothing to resume");
    }

    private static async Task<IResult> ReleaseDeletesAsync(HttpRequest request, FilestoreReplication filestore)
    {
        var (_, error) = await AdminRequests.ReadAsync<ReleaseDeletesRequest>(request);
        if (error is not null)
        {
            return error;
        }

        if (filestore.Status?.HeldDeletes is null)
        {
            return AdminRequests.Problem(StatusCodes.Status409Conflict, "no delete is held: the breaker is closed");
        }

        var released = filestore.ReleaseHeldDeletes();
        return Results.Json(new { summary = $"{released} held delete(s) released: each is deleted now if the source still lacks it" }, AdminRequests.Json);
    }

    /// <summary>A pause longer than a week is a configuration change (Coordinator:AutoFailover), not a pause.</summary>
    private static readonly TimeSpan MaxPause = TimeSpan.FromDays(7);

    private static async Task<IResult> PromoteAsync(HttpRequest request, DatabaseOperations database, SiteTopology topology, IHostApplicationLifetime lifetime)
    {
        var (body, error) = await AdminRequests.ReadAsync<PromoteRequest>(request);
        if (body is null)
        {
            return error!;
        }

        if (!topology.Sites.Any(site => site.Id == body.To))
        {
            return AdminRequests.Problem(StatusCodes.Status404NotFound, $"unknown site '{body.To}'");
        }

        try
        {
            var report = await database.PromoteAsync(body.To, body.Force, $"operator{(body.Force ? " (forced)" : "")}", AdminLeadership.OperationCancellation(request.HttpContext, lifetime));
            return Results.Json(report, AdminRequests.Json, statusCode: report.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
        }
        catch (OperationInProgressException e)
        {
            return AdminRequests.Problem(StatusCodes.Status409Conflict, e.Message);
        }
    }

    private static async Task<IResult> SwitchoverAsync(HttpRequest request, SiteSwitch sites, SiteTopology topology, IHostApplicationLifetime lifetime)
    {
        var (body, error) = await AdminRequests.ReadAsync<SwitchoverRequest>(request);
        return body is null ? error! : await SwitchAsync(sites, topology, body.To, SwitchKind.Switchover, force: false, "operator: planned switchover", AdminLeadership.OperationCancellation(request.HttpContext, lifetime));
    }

    private static async Task<IResult> FailoverAsync(HttpRequest request, SiteSwitch sites, SiteTopology topology, IHostApplicationLifetime lifetime)
    {
        var (body, error) = await AdminRequests.ReadAsync<FailoverRequest>(request);
        return body is null
            ? error!
            : await SwitchAsync(sites, topology, body.To, SwitchKind.Failover, body.Force, $"operator: failover{(body.Force ? " (forced)" : "")}", AdminLeadership.OperationCancellation(request.HttpContext, lifetime));
    }

    private static async Task<IResult> FailbackAsync(HttpRequest request, FailbackPreparation failback, IHostApplicationLifetime lifetime)
    {
        var (_, error) = await AdminRequests.ReadAsync<FailbackRequest>(request);
        if (error is not null)
        {
            return error;
        }

        try
        {
            var report = await failback.PrepareAsync(AdminLeadership.OperationCancellation(request.HttpContext, lifetime));
            return Results.Json(report, AdminRequests.Json, statusCode: report.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
        }
        catch (OperationInProgressException e)
        {
            return AdminRequests.Problem(StatusCodes.Status409Conflict, e.Message);
        }
    }

    private static async Task<IResult> SwitchAsync(SiteSwitch sites, SiteTopology topology, string to, SwitchKind kind, bool force, string why, CancellationToken cancellation)
    {
        if (!topology.Sites.Any(site => site.Id == to))
        {
            return AdminRequests.Problem(StatusCodes.Status404NotFound, $"unknown site '{to}'");
        }

        try
        {
            var report = await sites.SwitchAsync(to, kind, force, why, cancellation);
            return Results.Json(report, AdminRequests.Json, statusCode: report.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
        }
        catch (OperationInProgressException e)
        {
            return AdminRequests.Problem(StatusCodes.Status409Conflict, e.Message);
        }
    }

    private static async Task<IResult> RejoinAsync(HttpRequest request, DatabaseOperations database, SiteTopology topology, IHostApplicationLifetime lifetime)
    {
        var (body, error) = await AdminRequests.ReadAsync<RejoinRequest>(request);
        if (body is null)
        {
            return error!;
        }

        if (!topology.Sites.Any(site => site.Id == body.Site))
        {
            return AdminRequests.Problem(StatusCodes.Status404NotFound, $"unknown site '{body.Site}'");
        }

        try
        {
            var report = await database.RejoinAsync(body.Site, body.Method, AdminLeadership.OperationCancellation(request.HttpContext, lifetime));
            return Results.Json(report, AdminRequests.Json, statusCode: report.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
        }
        catch (OperationInProgressException e)
        {
            return AdminRequests.Problem(StatusCodes.Status409Conflict, e.Message);
        }
    }
}
