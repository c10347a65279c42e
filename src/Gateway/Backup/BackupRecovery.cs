namespace Gateway.Backup;

/// <summary>
/// At start, before anything else of the backup feature runs: a backup a killed gateway left "running" is marked
/// interrupted (never listed as complete), the engine process it had running is stopped, its file snapshot and any
/// drill's scratch copy removed. Writes it may have held were held in the dead process only: this one starts with
/// them flowing. What the engines stored for it is removed by the next backup (it is not a succeeded backup).
/// </summary>
public sealed partial class BackupRecovery(BackupCatalog catalog, BackupOptions options, BackupPaths paths, Model.SiteTopology topology,
    BackupMetrics metrics, TimeProvider time, ILogger<BackupRecovery> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Log.Recovered(logger, Recover());
        return Task.CompletedTask;
    }

    /// <summary>Does the clean-up; returns the sentence it logs.</summary>
    public string Recover()
    {
        var notes = new List<string>();
        foreach (var record in catalog.All.Where(r => r.Status == BackupStatus.Running))
        {
            var killed = record.RunningTool is { } leftover && ProcessBackupTool.KillLeftover(leftover);
            var step = record.InProgress ?? (record.Steps.Count > 0 ? $"after {record.Steps[^1].Step}" : "start");
            var holding = record.InProgress?.StartsWith(BackupRunner.HoldStep, StringComparison.Ordinal) == true;
            var interrupted = catalog.Save(record with
            {
                Status = BackupStatus.Interrupted,
                FinishedAt = time.GetUtcNow(),
                RunningTool = null,
                InProgress = null,
                Summary = $"backup {record.Id} interrupted: the gateway stopped during '{step}'" +
                    (holding ? "; the writes it held were held by that process only: this one holds none" : "") +
                    (killed ? $"; its leftover `{record.RunningTool!.Command}` stopped" : ""),
            });
            metrics.Finished(interrupted);
            notes.Add(interrupted.Summary);
        }

        if (options.SnapshotCommand.Length == 0)
        {
            foreach (var snapshot in topology.Sites.Select(paths.SnapshotOf).Distinct().Where(Directory.Exists))
            {
                Directory.Delete(snapshot, recursive: true);
                notes.Add($"leftover file snapshot {snapshot} removed");
            }
        }

        if (Directory.Exists(paths.Scratch))
        {
            foreach (var drill in Directory.EnumerateDirectories(paths.Scratch, "*-drill-*"))
            {
                Directory.Delete(drill, recursive: true);
                notes.Add($"leftover drill copy {drill} removed");
            }
        }

        return notes.Count == 0 ? "nothing to recover" : string.Join("; ", notes);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Backup recovery at start: {Sentence}")]
        public static partial void Recovered(ILogger logger, string sentence);
    }
}
