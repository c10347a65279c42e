using System.CommandLine;
using Gateway.Cli.Api;
using Gateway.Cli.Connection;
using Gateway.Cli.Rendering;

namespace Gateway.Cli.Commands;

/// <summary><c>gatewayctl backup ...</c>: consistent backups of the database and the filestore, restores, drills, retention.</summary>
public static class BackupCommands
{
    public static Command Create(GlobalOptions globals, CliEnvironment environment)
    {
        var command = new Command("backup", "Backups of the database and the filestore taken at one instant: take, list, show, verify, restore, prune")
        {
            Take(globals, environment),
            List(globals, environment),
            Show(globals, environment),
            Verify(globals, environment),
            Restore(globals, environment),
            Prune(globals, environment),
        };
        command.SetAction(CommandGroup.RequireSubcommand);
        return command;
    }

    private static Command Take(GlobalOptions globals, CliEnvironment environment)
    {
        var command = new Command("create", "Take a backup now: the database (pgBackRest), the consistent cut (writes held briefly), the files (restic); progress while it runs");
        AdminAction.Set(command, globals, environment, async (invocation, api, cancellation) =>
        {
            var response = await PostWatchingAsync(invocation, api, "/admin/backup", new NoArguments(), cancellation);
            return Backup(invocation, api, response, "backup");
        });
        return command;
    }

    private static Command List(GlobalOptions globals, CliEnvironment environment)
    {
        var command = new Command("list", "Every backup the gateway knows, oldest first, and what runs now");
        AdminAction.Set(command, globals, environment, async (invocation, api, cancellation) =>
        {
            var response = await api.GetAsync("/admin/backups", cancellation);
            if (invocation.Json || !response.IsSuccess)
            {
                invocation.WriteRawJson(response);
                return response.IsSuccess ? ExitCodes.Success : invocation.Refused(response, "backup list", api.BaseUrl);
            }

            BackupRenderer.WriteList(invocation.Output, AdminJson.TryRead<BackupListDocument>(response.Body) ?? new BackupListDocument());
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show(GlobalOptions globals, CliEnvironment environment)
    {
        var id = BackupId();
        var command = new Command("show", "One backup: its cut, restore point, both parts with their tools' versions, drills and steps") { id };
        AdminAction.Set(command, globals, environment, async (invocation, api, cancellation) =>
            Backup(invocation, api, await api.GetAsync($"/admin/backups/{Uri.EscapeDataString(invocation.Value(id))}", cancellation), $"backup {invocation.Value(id)}"));
        return command;
    }

    private static Command Verify(GlobalOptions globals, CliEnvironment environment)
    {
        var id = BackupId();
        var command = new Command("verify", "A restore drill: restore into scratch, recover with a throw-away PostgreSQL, run Backup:VerifyCommand, clean up") { id };
        AdminAction.Set(command, globals, environment, async (invocation, api, cancellation) =>
        {
            var backup = invocation.Value(id);
            var response = await PostWatchingAsync(invocation, api, $"/admin/backups/{Uri.EscapeDataString(backup)}/verify", new NoArguments(), cancellation);
            if (invocation.Json)
            {
                invocation.WriteRawJson(response);
            }

            if (response.IsJson && AdminJson.TryRead<DrillRow>(response.Body) is { IsDrill: true } drill)
            {
                if (!invocation.Json)
                {
                    BackupRenderer.WriteDrill(invocation.Output, backup, drill);
                }

                return drill.Passed == true ? ExitCodes.Success : invocation.Fail(new(ExitCodes.Failed, $"restore drill of {backup} failed: {drill.Summary}"));
            }

            return invocation.Refused(response, $"restore drill of {backup}", api.BaseUrl);
        });
        return command;
    }

    private static Command Restore(GlobalOptions globals, CliEnvironment environment)
    {
        var id = BackupId();
        var to = new Option<string?>("--to") { Description = "An empty or new directory: DIR/pgdata (recovered to the restore point) and DIR/files", HelpName = "dir" };
        var site = new Option<string?>("--site") { Description = "Rebuild this site's database and SAN from the backup (refused while it holds the primary)", HelpName = "site" };
        var action = new Option<string>("--target-action")
        {
            Description = "With --to: promote (a new timeline, writable) or pause (in recovery at the restore point)",
            DefaultValueFactory = _ => "promote",
            HelpName = "promote|pause",
        };
        action.AcceptOnlyFromAmong("promote", "pause");
        var command = new Command("restore", "Restore a backup into a directory (--to) or rebuild a site from it (--site)") { id, to, site, action };
        command.Validators.Add(result =>
        {
            var given = new Option[] { to, site }.Count(option => result.GetResult(option) is { Implicit: false });
            if (given != 1)
            {
                result.AddError("restore: give exactly one of --to or --site");
            }
            else if (result.GetResult(site) is { Implicit: false } && result.GetResult(action) is { Implicit: false })
            {
                result.AddError("restore: --target-action is for --to; a site is always rebuilt promoted");
            }
        });
        AdminAction.Set(command, globals, environment, async (invocation, api, cancellation) =>
        {
            var backup = invocation.Value(id);
            var (directory, target) = (invocation.ValueOrNull(to), invocation.ValueOrNull(site));
            var body = new RestoreBody(directory is null ? null : Path.GetFullPath(directory, environment.WorkingDirectory), target,
                target is null ? char.ToUpperInvariant(invocation.Value(action)[0]) + invocation.Value(action)[1..] : null);
            var title = $"restore {backup} into {(target is null ? body.To : $"site {target}")}";
            var response = await PostWatchingAsync(invocation, api, $"/admin/backups/{Uri.EscapeDataString(backup)}/restore", body, cancellation);
            return Report(invocation, api, response, title);
        });
        return command;
    }

    private static Command Prune(GlobalOptions globals, CliEnvironment environment)
    {
        var last = Count("--keep-last", "Keep the newest N backups");
        var daily = Count("--keep-daily", "Keep the newest backup of each of the last N days that have one (UTC days)");
        var weekly = Count("--keep-weekly", "Keep the newest backup of each of the last N ISO weeks that have one");
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be kept and removed, remove nothing" };
        var command = new Command("prune", "Apply retention to both engines together (the configured Gateway:Backup:Retention, or these counts)") { last, daily, weekly, dryRun };
        AdminAction.Set(command, globals, environment, async (invocation, api, cancellation) =>
        {
            var body = new PruneBody(invocation.Optional(last), invocation.Optional(daily), invocation.Optional(weekly), invocation.Value(dryRun));
            var response = await api.PostAsync("/admin/backups/prune", body, cancellation);
            return Report(invocation, api, response, body.DryRun ? "prune (dry run)" : "prune");
        });
        return command;
    }

    private static Argument<string> BackupId() => new("id") { Description = "A backup id, as 'gatewayctl backup list' shows it" };

    private static Option<int?> Count(string name, string description) => new(name) { Description = description, HelpName = "n" };

    private static Task<ApiResponse> PostWatchingAsync(Invocation invocation, AdminApiClient api, string path, object body, CancellationToken cancellation) =>
        invocation.Json
            ? api.PostAsync(path, body, cancellation)
            : OperationCall.PostWhileWatchingAsync(api, path, body, new BackupProgressWatcher(api, invocation.Output).WatchAsync, cancellation);

    /// <summary>An answer that is a backup record: rendered, and its status is the verdict (a failed backup exits 1 with its summary).</summary>
    private static int Backup(Invocation invocation, AdminApiClient api, ApiResponse response, string title)
    {
        if (invocation.Json)
        {
            invocation.WriteRawJson(response);
        }

        if (response.IsJson && AdminJson.TryRead<BackupRow>(response.Body) is { IsBackup: true } backup)
        {
            if (!invocation.Json)
            {
                BackupRenderer.WriteBackup(invocation.Output, backup);
            }

            return backup.Status is "Succeeded" or "Running" ? ExitCodes.Success : invocation.Fail(new(ExitCodes.Failed, $"{title} {backup.Status?.ToLowerInvariant()}: {backup.Summary}"));
        }

        return invocation.Refused(response, title, api.BaseUrl);
    }

    /// <summary>A restore or prune report (succeeded, summary, steps): the common renderer.</summary>
    private static int Report(Invocation invocation, AdminApiClient api, ApiResponse response, string title)
    {
        if (invocation.Json)
        {
            invocation.WriteRawJson(response);
        }

        var report = response.IsJson && response.ErrorText is null && AdminJson.TryRead<OperationReport>(response.Body) is { IsReport: true } read ? read : null;
        if (report is null)
        {
            return invocation.Refused(response, title, api.BaseUrl);
        }

        if (!invocation.Json)
        {
            ReportRenderer.Write(invocation.Output, title, report);
        }

        return response.IsSuccess && report.Succeeded != false ? ExitCodes.Success : invocation.Fail(new(ExitCodes.Failed, $"{title} failed: {report.Summary}"));
    }
}
