using Gateway.Database;
using Gateway.Database.Nodes;
using Gateway.Database.Observation;
using Gateway.Model;
using Gateway.Observability;
using Gateway.Operations;

namespace Gateway.Backup;

/// <summary>
/// Takes one backup: the database with pgBackRest (from the standby where one streams, writes flowing), then the
/// consistent cut with writes held (replica caught up, restore point, file snapshot), then the WAL up to the restore
/// point and the file snapshot with restic (writes flowing again), then retention. A database backup must end
/// before its restore point: PostgreSQL refuses a recovery target that comes before the backup's consistency point,
/// so the cut follows the database backup, and the restore replays the WAL between them. The record is persisted at
/// every step; it says Succeeded only once both parts and the cut are in place.
/// </summary>
public sealed partial class BackupRunner(
    BackupOptions options,
    BackupCatalog catalog,
    BackupOperations operations,
    BackupEngines engines,
    ConsistentCut cut,
    IWriteHold hold,
    DatabaseRoutingTable routing,
    DatabaseObserver observer,
    SiteTopology topology,
    RetentionRunner retention,
    IBackupTool tool,
    BackupMetrics metrics,
    Alarms alarms,
    TimeProvider time,
    ILogger<BackupRunner> logger)
{
    public const string FailedAlarm = AlarmCatalogue.BackupFailed;

    /// <summary>How the step that holds writes begins (its sentence names the bound).</summary>
    public const string HoldStep = "hold writes";

    public Task<BackupRecord> CreateAsync(string why, CancellationToken cancellation)
    {
        var id = catalog.NewId(time.GetUtcNow());
        var progress = new BackupProgress("backup", id, time);
        return operations.RunAloneAsync(progress, () => RunAsync(id, why, progress, cancellation));
    }

    private async Task<BackupRecord> RunAsync(string id, string why, BackupProgress progress, CancellationToken cancellation)
    {
        using var span = GatewayTelemetry.Source.StartActivity("backup");
        var run = new RecordedRun(catalog, catalog.Save(new BackupRecord { Id = id, Why = why, StartedAt = time.GetUtcNow(), Summary = "running" }),
            new StepJournal(time, logger, $"backup {id}"), progress);
        BackupRecord record;
        try
        {
            record = await StepsAsync(run, cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            record = run.Finish(BackupStatus.Interrupted, $"backup {id} interrupted by the gateway's shutdown at '{run.LastStep}'", time.GetUtcNow());
        }
        catch (Exception e)
        {
            record = run.Finish(BackupStatus.Failed, $"backup {id} failed at '{run.LastStep}': {e.Message}", time.GetUtcNow());
        }

        if (record.Status == BackupStatus.Succeeded)
        {
            alarms.Clear(FailedAlarm);
        }
        else
        {
            alarms.Raise(FailedAlarm, record.Summary);
        }

        metrics.Finished(record);
        Log.Finished(logger, record.Summary);
        return record;
    }

    private async Task<BackupRecord> StepsAsync(RecordedRun run, CancellationToken cancellation)
    {
        var primary = routing.Current.Primary ?? throw new BackupRefusedException("no database primary is designated (a switch is in progress)");
        await run.StepAsync("prepare", "prepare pgBackRest and restic", () => engines.PrepareForBackupAsync(primary, cancellation));

        var standby = topology.PeerOf(primary).Id;
        var fromStandby = (await observer.ObserveNowAsync(cancellation)).WhyNotFollowing(primary, standby) is null;
        var database = await run.StepAsync("back up the database", $"back up the database with pgBackRest from {(fromStandby ? $"the standby {standby}" : $"the primary {primary}")}", async () =>
        {
            var label = await engines.PgBackRest.BackupAsync(run.Record.Id, fromStandby, run.Progress, run.Running, cancellation);
            var set = (await engines.PgBackRest.SetsAsync(cancellation)).Single(s => s.Label == label);
            var part = new DatabasePartRecord(engines.Versions.PgBackRest, set.Label, set.Type, set.Prior, fromStandby ? standby : primary,
                set.DatabaseBytes, set.RepositoryBytes, set.StartLsn, set.StopLsn, engines.PgBackRest.Stanza);
            run.Update(r => r with { Database = part, RunningTool = null });
            return (part, $"{set.Type} backup {set.Label}: {set.DatabaseBytes} bytes of database, {set.RepositoryBytes} bytes added to the repository, LSN {set.StartLsn} to {set.StopLsn}");
        });

        await run.StepAsync("remove leftovers", "remove what backups that did not succeed left in the engines", async () =>
        {
            try
            {
                return await retention.RemoveLeftoversAsync(run.Record.Id, cancellation);
            }
            catch (ToolFailedException e)
            {
                // pgBackRest keeps the only full set until another exists; the next backup tries again.
                return $"not all removed yet: {e.Message}";
            }
        });

        var plan = cut.Plan();
        try
        {
            var tree = await run.StepAsync("link tree", "make the file snapshot's link tree, writes flowing", () => cut.PrepareAsync(plan, cancellation));
            var made = await run.StepAsync("consistent cut", $"{HoldStep} (at most {options.MaxHold.TotalMilliseconds:0} ms) for the cut", async () =>
            {
                var held = await hold.RunHeldAsync(options.MaxHold, (_, token) => cut.RunAsync(run.Record.Id, primary, plan, tree, token), cancellation);
                if (!held.Completed || held.Result is not { } result)
                {
                    throw new InvalidOperationException($"writes held {held.Held.TotalMilliseconds:0} ms and released; no cut made: {held.Outcome}");
                }

                var record = new CutRecord(held.HeldAt, held.Held, result.PrimarySite, result.RestorePoint, result.Lsn, result.WalFile, result.SnapshotSite,
                    result.SnapshotSource, held.Drain, result.CatchUp, result.Snapshot);
                run.Update(r => r with { Cut = record });
                metrics.Held(held.Held);
                return (result, $"writes held {held.Held.TotalMilliseconds:0.0} ms (drain {held.Drain.TotalMilliseconds:0.0}, replica catch-up {result.CatchUp.TotalMilliseconds:0.0}, " +
                    $"snapshot {result.Snapshot.TotalMilliseconds:0.0}); restore point '{result.RestorePoint}' at {result.Lsn} on {result.PrimarySite}; snapshot of the {result.SnapshotSource}: {result.SnapshotOutcome}");
            });

            await run.StepAsync("archive WAL", "archive the WAL up to the restore point", () => engines.PgBackRest.ArchiveCurrentWalAsync(cancellation));
            await run.StepAsync("back up the files", $"back up the snapshot of site {made.SnapshotSite}'s SAN with restic", async () =>
            {
                File.Delete(Path.Combine(made.SnapshotPath, ConsistentCut.BarrierName));
                var summary = await engines.Restic.BackupAsync(made.SnapshotPath, run.Record.Id, run.Record.Cut!.HeldAt, run.Progress, run.Running, cancellation);
                var part = new FilesPartRecord(engines.Versions.Restic, summary.SnapshotId, summary.Files, summary.Bytes, summary.AddedBytes);
                run.Update(r => r with { Files = part, RunningTool = null });
                return $"snapshot {summary.SnapshotId[..8]}: {summary.Files} files, {summary.Bytes} bytes, {summary.AddedBytes} bytes added to the repository";
            });
        }
        finally
        {
            await run.StepAsync("remove the snapshot", "remove the file snapshot", () => ReleaseSnapshotAsync(plan.Path, cancellation));
        }

        run.Finish(BackupStatus.Succeeded,
            $"backup {run.Record.Id} succeeded: database {run.Record.Database!.Label}, files {run.Record.Files!.SnapshotId[..8]}, writes held {run.Record.Cut!.Hold.TotalMilliseconds:0} ms",
            time.GetUtcNow());
        try
        {
            await run.StepAsync("apply retention", $"apply retention ({options.Retention.ToPolicy()})", async () =>
                (await retention.ApplyAsync(options.Retention.ToPolicy(), dryRun: false, cancellation)).Summary);
            alarms.Clear(RetentionRunner.FailedAlarm);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The backup itself is complete; what retention could not remove is removed by the next prune.
            alarms.Raise(RetentionRunner.FailedAlarm, $"retention after backup {run.Record.Id} failed: {e.Message}");
        }

        return run.Record;
    }

    private static void RemoveSnapshot(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private async Task<string> ReleaseSnapshotAsync(string path, CancellationToken cancellation)
    {
        if (options.ReleaseSnapshotCommand.Length > 0)
        {
            var command = NodeCommands.Fill(options.ReleaseSnapshotCommand, new Dictionary<string, string> { ["snapshot"] = path });
            var result = await tool.RunAsync(new ToolCommand("/bin/sh", ["-c", command]), cancellation);
            return result.Succeeded ? $"released by `{result.Command}`" : throw new ToolFailedException(result);
        }

        if (options.SnapshotCommand.Length > 0)
        {
            return "no ReleaseSnapshotCommand: the snapshot stays";
        }

        RemoveSnapshot(path);
        return $"{path} removed";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Backup: {Summary}")]
        public static partial void Finished(ILogger logger, string summary);
    }
}

/// <summary>A backup under way: its record, persisted after every step, and its journal.</summary>
internal sealed class RecordedRun(BackupCatalog catalog, BackupRecord record, StepJournal journal, BackupProgress progress)
{
    private readonly Lock _lock = new();

    public BackupRecord Record { get; private set; } = record;

    public BackupProgress Progress { get; } = progress;

    /// <summary>The step that failed (a later clean-up step does not hide it), else the last one that ran.</summary>
    public string LastStep => _failedStep ?? journal.Steps.LastOrDefault()?.Step ?? "start";

    private string? _failedStep;

    public void Update(Func<BackupRecord, BackupRecord> change)
    {
        lock (_lock)
        {
            Record = catalog.Save(change(Record) with { Steps = journal.Steps });
        }
    }

    /// <summary>Persists the engine process now running, so a gateway restarted after a crash can stop it.</summary>
    public void Running(ToolProcess process) => Update(r => r with { RunningTool = process });

    public async Task<T> StepAsync<T>(string id, string sentence, Func<Task<(T Result, string Outcome)>> action)
    {
        Progress.Step(sentence);
        Update(r => r with { InProgress = sentence });
        try
        {
            return await journal.RunAsync(id, sentence, action);
        }
        catch
        {
            _failedStep ??= sentence;
            throw;
        }
        finally
        {
            Update(r => r with { RunningTool = null, InProgress = null });
        }
    }

    public Task StepAsync(string id, string sentence, Func<Task<string>> action) => StepAsync<bool>(id, sentence, async () => (true, await action()));

    public BackupRecord Finish(BackupStatus status, string summary, DateTimeOffset at)
    {
        Update(r => r with { Status = status, Summary = summary, FinishedAt = at, RunningTool = null });
        return Record;
    }
}
