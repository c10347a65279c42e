using Gateway.Coordinator.Admin;

namespace Gateway.Backup;

/// <summary>No parameters: an empty object, so unknown fields are still refused.</summary>
public sealed record CreateBackupRequest;

public sealed record VerifyBackupRequest;

/// <summary>Exactly one of <paramref name="To"/> (an empty or new directory) and <paramref name="Site"/>.</summary>
public sealed record RestoreBackupRequest(string? To = null, string? Site = null, RestoreTargetAction TargetAction = RestoreTargetAction.Promote);

/// <summary>The configured Gateway:Backup:Retention, or these counts; a dry run decides without removing.</summary>
public sealed record PruneBackupsRequest(int? KeepLast = null, int? KeepDaily = null, int? KeepWeekly = null, bool DryRun = false);

public sealed record BackupList(bool Enabled, ProgressSnapshot? Running, IReadOnlyList<BackupRecord> Backups);

/// <summary>
/// The backup part of the admin API, on the authenticated group (strict JSON, audit, token, body limit):
/// POST /admin/backup, GET /admin/backups[/{id}], POST /admin/backups/{id}/verify, POST /admin/backups/{id}/restore,
/// POST /admin/backups/prune. Operations run to their end even if the caller hangs up; only the gateway's shutdown
/// cancels them.
/// </summary>
public static class BackupEndpoints
{
    public static void Map(RouteGroupBuilder admin)
    {
        admin.MapPost("/backup", CreateAsync);
        admin.MapGet("/backups", List);
        admin.MapGet("/backups/{id}", ShowAsync);
        admin.MapPost("/backups/prune", PruneAsync);
        admin.MapPost("/backups/{id}/verify", VerifyAsync);
        admin.MapPost("/backups/{id}/restore", RestoreAsync);
    }

    private static IResult List(HttpContext http)
    {
        var catalog = http.RequestServices.GetService<BackupCatalog>();
        return Results.Json(new BackupList(catalog is not null, http.RequestServices.GetService<BackupOperations>()?.Current, catalog?.All ?? []), AdminRequests.Json);
    }

    private static Task<IResult> ShowAsync(string id, HttpContext http) =>
        GuardAsync(http, () => Task.FromResult(http.RequestServices.GetRequiredService<BackupCatalog>().Find(id) is { } record
            ? Results.Json(record, AdminRequests.Json)
            : throw new BackupNotFoundException($"unknown backup id '{id}' (gatewayctl backup list shows the backups)")));

    private static async Task<IResult> CreateAsync(HttpRequest request, IHostApplicationLifetime lifetime)
    {
        var (_, error) = await AdminRequests.ReadAsync<CreateBackupRequest>(request);
        return error ?? await GuardAsync(request.HttpContext, async () =>
        {
            var record = await request.HttpContext.RequestServices.GetRequiredService<BackupRunner>().CreateAsync("operator", lifetime.ApplicationStopping);
            return Results.Json(record, AdminRequests.Json, statusCode: record.Status == BackupStatus.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
        });
    }

    private static async Task<IResult> VerifyAsync(string id, HttpRequest request, IHostApplicationLifetime lifetime)
    {
        var (_, error) = await AdminRequests.ReadAsync<VerifyBackupRequest>(request);
        return error ?? await GuardAsync(request.HttpContext, async () =>
        {
            var drill = await request.HttpContext.RequestServices.GetRequiredService<RestoreRunner>().VerifyAsync(id, lifetime.ApplicationStopping);
            return Results.Json(drill, AdminRequests.Json, statusCode: drill.Passed ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
        });
    }

    private static async Task<IResult> RestoreAsync(string id, HttpRequest request, IHostApplicationLifetime lifetime)
    {
        var (body, error) = await AdminRequests.ReadAsync<RestoreBackupRequest>(request);
        if (body is null)
        {
            return error!;
        }

        if ((body.To is null) == (body.Site is null))
        {
            return AdminRequests.Problem(StatusCodes.Status400BadRequest, "give exactly one of 'to' (a directory) and 'site'");
        }

        if (body.Site is not null && body.TargetAction != RestoreTargetAction.Promote)
        {
            return AdminRequests.Problem(StatusCodes.Status400BadRequest, $"a site is rebuilt promoted; targetAction '{body.TargetAction}' is for a restore into a directory");
        }

        return await GuardAsync(request.HttpContext, async () =>
        {
            var restore = request.HttpContext.RequestServices.GetRequiredService<RestoreRunner>();
            var report = body.Site is { } site
                ? await restore.RestoreSiteAsync(id, site, lifetime.ApplicationStopping)
                : await restore.RestoreToDirectoryAsync(id, body.To!, body.TargetAction, lifetime.ApplicationStopping);
            return Results.Json(report, AdminRequests.Json, statusCode: report.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status409Conflict);
        });
    }

    private static async Task<IResult> PruneAsync(HttpRequest request, BackupOptions options, IHostApplicationLifetime lifetime)
    {
        var (body, error) = await AdminRequests.ReadAsync<PruneBackupsRequest>(request);
        if (body is null)
        {
            return error!;
        }

        var configured = options.Retention;
        var policy = new RetentionPolicy(body.KeepLast ?? configured.KeepLast, body.KeepDaily ?? configured.KeepDaily, body.KeepWeekly ?? configured.KeepWeekly);
        if (policy.Problem() is { } problem)
        {
            return AdminRequests.Problem(StatusCodes.Status400BadRequest, $"retention refused: {problem}");
        }

        return await GuardAsync(request.HttpContext, async () =>
        {
            var report = await request.HttpContext.RequestServices.GetRequiredService<RetentionRunner>().PruneAsync(policy, body.DryRun, lifetime.ApplicationStopping);
            return Results.Json(report, AdminRequests.Json);
        });
    }

    /// <summary>The refusals every backup call shares, each with the sentence that names what was wrong; nothing was changed by any of them.</summary>
    private static async Task<IResult> GuardAsync(HttpContext http, Func<Task<IResult>> action)
    {
        if (http.RequestServices.GetService<BackupCatalog>() is null)
        {
            return AdminRequests.Problem(StatusCodes.Status409Conflict, "backups are not configured: set Gateway:Backup:RepositoryPath (and PasswordFile)");
        }

        try
        {
            return await action();
        }
        catch (BackupNotFoundException e)
        {
            return AdminRequests.Problem(StatusCodes.Status404NotFound, e.Message);
        }
        catch (Exception e) when (e is BackupBusyException or BackupRefusedException)
        {
            return AdminRequests.Problem(StatusCodes.Status409Conflict, e.Message);
        }
        catch (ArgumentException e)
        {
            return AdminRequests.Problem(StatusCodes.Status400BadRequest, e.Message);
        }
    }
}
