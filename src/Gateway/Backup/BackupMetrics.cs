using Gateway.Observability;
using Prometheus;

namespace Gateway.Backup;

/// <summary>
/// Backups as Prometheus sees them, all in this one class: gauges read from the catalog at each scrape (the last
/// good backup's time, duration, sizes and write hold; whether the last backup or drill failed; when a drill last
/// passed; the configured ages the alerts compare with), counters and the hold histogram recorded as backups and
/// drills end. Every series exists from the start (0: none yet), so dashboards and alerts never wait for a first backup.
/// </summary>
public sealed class BackupMetrics
{
    private static readonly string[] BackupResults = ["succeeded", "failed", "interrupted"];
    private static readonly string[] DrillResults = ["passed", "failed"];
    private static readonly double[] HoldBucketsSeconds = [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5];
    private readonly Counter _backups;
    private readonly Counter _verifications;
    private readonly Histogram _hold;

    public BackupMetrics(GatewayMetrics metrics, BackupCatalog catalog, BackupOperations operations, BackupOptions options)
    {
        _backups = metrics.Counter("gateway_backups_total", "Backups that ended, by result (succeeded, failed, interrupted).", "result");
        _verifications = metrics.Counter("gateway_backup_verifications_total", "Restore drills that ended, by result (passed, failed).", "result");
        foreach (var result in BackupResults)
        {
            _backups.WithLabels(result).IncTo(0);
        }

        foreach (var result in DrillResults)
        {
            _verifications.WithLabels(result).IncTo(0);
        }

        _hold = metrics.Factory.CreateHistogram("gateway_backup_hold_duration_seconds", "How long each backup's consistent cut held writes.",
            new HistogramConfiguration { Buckets = HoldBucketsSeconds });
        metrics.ObservedGauge("gateway_backup_last_success_timestamp_seconds", "When the last successful backup ended (Unix time; 0: none yet).",
            () => LastGood(catalog)?.FinishedAt?.ToUnixTimeSeconds() ?? 0);
        metrics.ObservedGauge("gateway_backup_last_duration_seconds", "How long the last successful backup took, start to end (0: none yet).",
            () => LastGood(catalog) is { FinishedAt: { } end } good ? (end - good.StartedAt).TotalSeconds : 0);
        metrics.ObservedGauge("gateway_backup_last_size_bytes",
            "What the last successful backup holds: the database's size (part=database) and the files' (part=files); 0: none yet.",
            ["part"], () => Sizes(LastGood(catalog)));
        metrics.ObservedGauge("gateway_backup_last_hold_seconds", "How long the last successful backup held writes for its consistent cut (0: none yet).",
            () => LastGood(catalog)?.Cut?.Hold.TotalSeconds ?? 0);
        metrics.ObservedGauge("gateway_backup_last_failed",
            "1 while the most recent backup that ended did not succeed (the backup-failed alarm says why), 0 otherwise.",
            () => catalog.All.LastOrDefault(r => r.Status != BackupStatus.Running)?.Status is BackupStatus.Failed or BackupStatus.Interrupted ? 1 : 0);
        metrics.ObservedGauge("gateway_backup_last_verify_success_timestamp_seconds", "When the last restore drill that passed ran (Unix time; 0: none yet).",
            () => Drills(catalog).Where(d => d.Passed).Select(d => d.At.ToUnixTimeSeconds()).DefaultIfEmpty(0).Max());
        metrics.ObservedGauge("gateway_backup_last_verify_failed", "1 while the most recent restore drill failed, 0 otherwise (none yet included).",
            () => Drills(catalog).MaxBy(d => d.At) is { Passed: false } ? 1 : 0);
        metrics.ObservedGauge("gateway_backup_max_age_seconds", "Gateway:Backup:MaxAge: the stale-backup alert fires when the last successful backup is older.",
            () => options.MaxAge.TotalSeconds);
        metrics.ObservedGauge("gateway_backup_verify_max_age_seconds", "Gateway:Backup:MaxVerifyAge: the stale-drill alert fires when the last passed restore drill is older.",
            () => options.MaxVerifyAge.TotalSeconds);
        metrics.ObservedGauge("gateway_backup_running", "1 while a backup, restore drill, restore or prune runs.", () => operations.Current is null ? 0 : 1);
    }

    public void Finished(BackupRecord record) => _backups.WithLabels(record.Status.ToString().ToLowerInvariant()).Inc();

    public void Held(TimeSpan hold) => _hold.Observe(hold.TotalSeconds);

    public void Verified(VerifyRecord drill) => _verifications.WithLabels(drill.Passed ? "passed" : "failed").Inc();

    private static BackupRecord? LastGood(BackupCatalog catalog) => catalog.All.LastOrDefault(r => r.Status == BackupStatus.Succeeded);

    private static IEnumerable<VerifyRecord> Drills(BackupCatalog catalog) => catalog.All.SelectMany(r => r.Verifications);

    private static IEnumerable<Sample> Sizes(BackupRecord? record) =>
    [
        Sample.Of(record?.Database?.DatabaseBytes ?? 0, "database"),
        Sample.Of(record?.Files?.Bytes ?? 0, "files"),
    ];
}
