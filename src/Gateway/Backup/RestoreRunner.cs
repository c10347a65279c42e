using Gateway.Configuration;
using Gateway.Database;
using Gateway.Database.Nodes;
using Gateway.Filestore;
using Gateway.Model;
using Gateway.Operations;
using Microsoft.Extensions.Options;

namespace Gateway.Backup;

public sealed record RestoreReport(bool Succeeded, string BackupId, string Target, string Summary, IReadOnlyList<StepRecord> Steps, DateTimeOffset StartedAt, TimeSpan Duration);

/// <summary>How a restored copy ends its recovery at the restore point.</summary>
public enum RestoreTargetAction
{
    /// <summary>Promoted: a new timeline, writable, independent of the repository from then on.</summary>
    Promote,

    /// <summary>Paused at the restore point, still in recovery: look before deciding (pg_wal_replay_resume() promotes).</summary>
    Pause,
}

/// <summary>
/// Restores a backup: the database with pgBackRest (recovering to the backup's restore point, on the backup's
/// timeline) and the files with restic, side by side. Into a directory (DIR/pgdata, DIR/files), into a site (its
/// data directory and SAN, rebuilt as a fenced, read-only primary a failover can then make active), or into a
/// scratch directory for a drill: a throw-away PostgreSQL recovers it and <c>Backup:VerifyCommand</c> checks it.
/// </summary>
public sealed class RestoreRunner(
    BackupOptions options,
    IOptions<GatewayOptions> gatewayOptions,
    BackupPaths paths,
    BackupCatalog catalog,
    BackupOperations operations,
    BackupEngines engines,
    IBackupTool tool,
    NodeCommands nodeCommands,
    NodeConnections nodes,
    DatabaseRoutingTable routing,
    PgSessions sessions,
    GatewayState state,
    FilestoreReplication filestore,
    SiteTopology topology,
    BackupMetrics metrics,
    Alarms alarms,
    TimeProvider time,
    ILogger<RestoreRunner> logger)
{
    public const string VerifyFailedAlarm = AlarmCatalogue.BackupVerifyFailed;
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromMinutes(30);
    private readonly GatewayOptions _gateway = gatewayOptions.Value;

    /// <summary>The backup, if it is one that can be restored; otherwise the reason, naming it.</summary>
    public BackupRecord Restorable(string id)
    {
        var record = catalog.Find(id) ?? throw new BackupNotFoundException($"unknown backup id '{id}' (gatewayctl backup list shows the backups)");
        return record.Status == BackupStatus.Succeeded && record is { Database: not null, Files: not null, Cut: not null }
            ? record
            : throw new BackupRefusedException($"backup '{id}' is {record.Status.ToString().ToLowerInvariant()}, not a complete backup: {record.Summary}");
    }

    /// <summary>The restore drill: restore into scratch, recover with a throw-away PostgreSQL, run the check, clean up; the result is kept with the backup.</summary>
    public Task<VerifyRecord> VerifyAsync(string id, CancellationToken cancellation)
    {
        var backup = Restorable(id);
        return operations.RunAloneAsync(new BackupProgress("verify", id, time), async () =>
        {
            var startedAt = time.GetUtcNow();
            var journal = new StepJournal(time, logger, $"restore drill of {id}");
            var scratch = Path.Combine(paths.Scratch, $"{id}-drill-{startedAt:yyyyMMddHHmmss}");
            string summary;
            var passed = false;
            try
            {
                summary = await DrillAsync(backup, scratch, journal, cancellation);
                passed = true;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
            {
                summary = $"restore drill of {id} failed at '{journal.Steps.LastOrDefault()?.Step ?? "start"}': {e.Message}";
            }
            finally
            {
                await journal.RunAsync("clean up", () => Task.FromResult(RemoveDirectory(scratch)));
            }

            var result = new VerifyRecord(startedAt, passed, summary, time.GetUtcNow() - startedAt, journal.Steps);
            if (catalog.Find(id) is { } current)
            {
                catalog.Save(current with { Verifications = [.. current.Verifications.TakeLast(4), result] });
            }

            metrics.Verified(result);
            if (passed)
            {
                alarms.Clear(VerifyFailedAlarm);
            }
            else
            {
                alarms.Raise(VerifyFailedAlarm, summary);
            }

            return result;
        });
    }

    private async Task<string> DrillAsync(BackupRecord backup, string scratch, StepJournal journal, CancellationToken cancellation)
    {
        var (pgdata, files) = (Path.Combine(scratch, "pgdata"), Path.Combine(scratch, "files"));
        await journal.RunAsync("prepare", () => engines.PrepareAsync(cancellation));
        await RestoreBothAsync(backup, pgdata, files, RestoreTargetAction.Promote, archiving: false, journal, cancellation);
        await using var copy = await journal.RunAsync<RecoveringCopy>("start", "start a throw-away PostgreSQL on the restored data directory", async () =>
            { var started = await RecoveringCopy.StartAsync(pgdata, _gateway, options, engines.PgBackRest, tool, cancellation); return (started, $"on socket {started.SocketDirectory}"); });
        await journal.RunAsync("recover", $"recover to restore point '{backup.Cut!.RestorePoint}'", () =>
            copy.WaitForTargetAsync(backup.Cut.RestorePoint, promote: true, RecoveryLimit, time, cancellation));
        var check = await journal.RunAsync("check", options.VerifyCommand.Length > 0 ? "run Backup:VerifyCommand" : "check the copy answers and the files are there", async () =>
            Both(await CheckAsync(backup, copy, pgdata, files, cancellation)));
        await journal.RunAsync("stop", "stop the throw-away PostgreSQL", async () =>
        {
            await copy.StopAsync("immediate", cancellation);
            return "stopped";
        });
        return $"restore drill of {backup.Id} passed: recovered to '{backup.Cut.RestorePoint}'; {check}";
    }

    private async Task<string> CheckAsync(BackupRecord backup, RecoveringCopy copy, string pgdata, string files, CancellationToken cancellation)
    {
        var fileCount = Directory.Exists(files) ? Directory.EnumerateFiles(files, "*", SearchOption.AllDirectories).LongCount() : 0;
        if (options.VerifyCommand.Length == 0)
        {
            await using var command = copy.DataSource.CreateCommand("SELECT count(*) FROM pg_database");
            var databases = Convert.ToInt64(await command.ExecuteScalarAsync(cancellation));
            return $"the copy answers ({databases} databases); {fileCount} files restored (no VerifyCommand configured)";
        }

        var environment = new Dictionary<string, string>(DatabasePassword.Environment(_gateway.Database))
        {
            ["PGHOST"] = copy.SocketDirectory,
            ["PGPORT"] = RecoveringCopy.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGUSER"] = _gateway.Database.Username,
            ["GATEWAY_RESTORE_PGDATA"] = pgdata,
            ["GATEWAY_RESTORE_FILES"] = files,
            ["GATEWAY_BACKUP_ID"] = backup.Id,
        };
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        limit.CancelAfter(options.VerifyTimeout);
        ToolResult result;
        try
        {
            result = await tool.RunAsync(new ToolCommand("/bin/sh", ["-c", options.VerifyCommand]) { Environment = environment }, limit.Token);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new InvalidOperationException($"Backup:VerifyCommand did not finish within {options.VerifyTimeout}");
        }

        var said = string.Join(" | ", result.Output.TakeLast(3).Select(line => line.Trim()));
        return result.Succeeded
            ? $"VerifyCommand passed: {said}"
            : throw new InvalidOperationException($"VerifyCommand failed (exit {result.ExitCode}): {said}");
    }

    /// <summary>Restores into an empty (or new) directory: DIR/pgdata recovered to the restore point, DIR/files beside it.</summary>
    public Task<RestoreReport> RestoreToDirectoryAsync(string id, string directory, RestoreTargetAction action, CancellationToken cancellation)
    {
        var backup = Restorable(id);
        if (!Path.IsPathFullyQualified(directory))
        {
            throw new ArgumentException($"restore target '{directory}' must be an absolute path");
        }

        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Take(3).ToList() is { Count: > 0 } entries)
        {
            throw new BackupRefusedException($"restore target '{directory}' is not empty ({string.Join(", ", entries.Select(Path.GetFileName))}{(entries.Count > 2 ? ", ..." : "")}): choose an empty or new directory");
        }

        if (File.Exists(directory))
        {
            throw new BackupRefusedException($"restore target '{directory}' is a file");
        }

        return RunRestoreAsync(backup, directory, async journal =>
        {
            var (pgdata, files) = (Path.Combine(directory, "pgdata"), Path.Combine(directory, "files"));
            await journal.RunAsync("prepare", () => engines.PrepareAsync(cancellation));
            await RestoreBothAsync(backup, pgdata, files, action, archiving: false, journal, cancellation);
            var promote = action == RestoreTargetAction.Promote;
            await using var copy = await journal.RunAsync<RecoveringCopy>("start", "start PostgreSQL on the restored data directory", async () =>
                { var started = await RecoveringCopy.StartAsync(pgdata, _gateway, options, engines.PgBackRest, tool, cancellation); return (started, $"on socket {started.SocketDirectory}"); });
            var recovered = await journal.RunAsync("recover", $"recover to restore point '{backup.Cut!.RestorePoint}'", async () =>
                Both(await copy.WaitForTargetAsync(backup.Cut.RestorePoint, promote, RecoveryLimit, time, cancellation)));
            await journal.RunAsync("stop", "stop it cleanly", async () =>
            {
                await copy.StopAsync("fast", cancellation);
                return "stopped";
            });
            return $"backup {backup.Id} restored into {directory}: pgdata {recovered}{(promote ? "; it starts anywhere on its own" : "; started again it resumes recovery and needs the repository (restore_command)")}; files in {files}";
        });
    }

    /// <summary>
    /// Rebuilds a site from a backup: stops replication into it and its database, restores both into its data
    /// directory and SAN, and starts the database, which recovers to the restore point and promotes, fenced and
    /// read-only. Refused while the site holds the primary or its SAN is where the services write.
    /// </summary>
    public Task<RestoreReport> RestoreSiteAsync(string id, string siteId, CancellationToken cancellation)
    {
        var backup = Restorable(id);
        var site = topology.Sites.FirstOrDefault(s => s.Id == siteId) ?? throw new BackupNotFoundException($"unknown site '{siteId}'");
        if (routing.Current.Primary == siteId || (state.Current.Switching && state.Current.DatabasePrimary == siteId))
        {
            throw new BackupRefusedException($"site {siteId} holds the primary: a site is rebuilt from a backup only while the other one serves (switch over first, or restore into a directory)");
        }

        if (filestore.LinkSite == siteId)
        {
            throw new BackupRefusedException($"the filestore links point at site {siteId}'s SAN, where the services write: it is not rebuilt from a backup");
        }

        return RunRestoreAsync(backup, $"site {siteId}", async journal =>
        {
            await journal.RunAsync("prepare", () => engines.PrepareAsync(cancellation));
            await journal.RunAsync("stop replication", $"stop replication into site {siteId}", async () =>
            {
                if (filestore.Status?.Direction.TargetSite != siteId)
                {
                    return "none runs into it";
                }

                await filestore.StopAsync(cancellation);
                return "stopped; it starts again with the next switch or failback";
            });
            await journal.RunAsync("stop database", $"fence site {siteId} and stop its database", async () =>
            {
                routing.Fence(siteId);
                var cut = sessions.CloseAll(siteId, $"site {siteId} is being rebuilt from backup {backup.Id}");
                var stopped = await nodeCommands.StopAsync(siteId, cancellation);
                nodes.Reset(siteId);
                return stopped.Succeeded || stopped.Output.Contains("Is server running?", StringComparison.Ordinal)
                    ? $"fenced ({cut} session(s) cut) and stopped"
                    : throw new InvalidOperationException($"its database does not stop (exit {stopped.ExitCode}): {stopped.Output}");
            });
            await journal.RunAsync("empty", $"empty site {siteId}'s data directory and SAN", () =>
                Task.FromResult($"{EmptyDirectory(site.Database.DataDirectory)} entries removed from {site.Database.DataDirectory}, {EmptyDirectory(site.SanPath)} from {site.SanPath}"));
            await RestoreBothAsync(backup, site.Database.DataDirectory, site.SanPath, RestoreTargetAction.Promote, archiving: true, journal, cancellation);
            await journal.RunAsync("read-only", "keep it read-only until a failover makes it the primary", async () =>
            {
                // As the gateway fences a node (ALTER SYSTEM): the failover's promotion resets it; the supervisor never sees a rogue writable primary.
                await File.AppendAllTextAsync(Path.Combine(site.Database.DataDirectory, "postgresql.auto.conf"), "default_transaction_read_only = 'on'\n", cancellation);
                return "default_transaction_read_only = on";
            });
            await journal.RunAsync("start database", $"start site {siteId}'s database and let it recover", async () =>
            {
                var started = await nodeCommands.StartAsync(siteId, cancellation);
                if (!started.Succeeded)
                {
                    throw new InvalidOperationException($"it does not start (exit {started.ExitCode}): {started.Output}");
                }

                var giveUpAt = time.GetUtcNow() + RecoveryLimit;
                while (await InRecoveryAsync(siteId, cancellation))
                {
                    if (time.GetUtcNow() > giveUpAt)
                    {
                        throw new InvalidOperationException($"still recovering after {RecoveryLimit}");
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellation);
                }

                return $"recovered to '{backup.Cut!.RestorePoint}' and promoted (read-only, fenced)";
            });
            return $"site {siteId} rebuilt from backup {backup.Id} (restore point '{backup.Cut!.RestorePoint}'): its database is a fenced, read-only primary " +
                $"recovered to the restore point and its SAN holds the backup's files; move the service there with 'gatewayctl failover --to {siteId} --force'";
        });
    }

    private async Task<bool> InRecoveryAsync(string siteId, CancellationToken cancellation)
    {
        try
        {
            return await BackupSql.IsInRecoveryAsync(nodes.For(siteId), cancellation);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or System.Net.Sockets.SocketException)
        {
            // Starting up, or between the end of recovery and the promotion's checkpoint.
            return true;
        }
    }

    private Task<RestoreReport> RunRestoreAsync(BackupRecord backup, string target, Func<StepJournal, Task<string>> restore) =>
        operations.RunAloneAsync(new BackupProgress("restore", backup.Id, time), async () =>
        {
            var startedAt = time.GetUtcNow();
            var journal = new StepJournal(time, logger, $"restore of {backup.Id} into {target}");
            try
            {
                var summary = await restore(journal);
                return new RestoreReport(true, backup.Id, target, summary, journal.Steps, startedAt, time.GetUtcNow() - startedAt);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return new RestoreReport(false, backup.Id, target, $"restore of {backup.Id} into {target} failed at '{journal.Steps.LastOrDefault()?.Step ?? "start"}': {e.Message}",
                    journal.Steps, startedAt, time.GetUtcNow() - startedAt);
            }
        });

    private async Task RestoreBothAsync(BackupRecord backup, string pgdata, string files, RestoreTargetAction action, bool archiving, StepJournal journal, CancellationToken cancellation)
    {
        await journal.RunAsync("restore database", $"restore database set {backup.Database!.Label} (pgBackRest) into {pgdata}", async () =>
        {
            Directory.CreateDirectory(pgdata);
            if (!OperatingSystem.IsWindows())
            {
                // PostgreSQL starts only on a data directory its owner alone may enter.
                File.SetUnixFileMode(pgdata, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            await engines.PgBackRest.OwnAsync(pgdata, cancellation);
            await engines.PgBackRest.RestoreAsync(backup.Database.Label, backup.Cut!.RestorePoint, pgdata, action.ToString().ToLowerInvariant(), archiving, cancellation);
            return $"recovery to '{backup.Cut.RestorePoint}' configured ({action.ToString().ToLowerInvariant()} there)";
        });
        await journal.RunAsync("restore files", $"restore file snapshot {backup.Files!.SnapshotId[..8]} (restic) into {files}", async () =>
        {
            Directory.CreateDirectory(files);
            await engines.Restic.RestoreAsync(backup.Files.SnapshotId, files, cancellation);
            return $"{backup.Files.Files} files, {backup.Files.Bytes} bytes";
        });
    }

    /// <summary>A step whose outcome sentence is also its result.</summary>
    private static (string Result, string Outcome) Both(string sentence) => (sentence, sentence);

    private static int EmptyDirectory(string directory)
    {
        var removed = 0;
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo { LinkTarget: null } sub)
            {
                sub.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }

            removed++;
        }

        return removed;
    }

    private static string RemoveDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return "nothing to remove";
        }

        Directory.Delete(directory, recursive: true);
        return $"{directory} removed";
    }
}
