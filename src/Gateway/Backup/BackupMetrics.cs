using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Observability;

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
    private readonly Counter<long> _backups;
    private readonly Counter<long> _verifications;
    private readonly Histogram<double> _hold;

    public BackupMetrics(MetricsCollector collector, BackupCatalog catalog, BackupOperations operations, BackupOptions options)
    {
        var meter = collector.Meter;
        _backups = meter.CreateCounter<long>("gateway.backups", "{backup}", "Backups that ended, by result (succeeded, failed, interrupted).");
        _verifications = meter.CreateCounter<long>("gateway.backup.verifications", "{drill}", "Restore drills that ended, by result (passed, failed).");
        foreach (var result in BackupResults)
        {
            _backups.Add(0, new TagList { { "result", result } });
        }

        foreach (var result in DrillResults)
        {
            _verifications.Add(0, new TagList { { "result", result } });
        }

        _hold = meter.CreateHistogram("gateway.backup.hold_duration", "s", "How long each backup's consistent cut held writes.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5] });
        meter.CreateObservableGauge("gateway.backup.last_success_timestamp", () => LastGood(catalog)?.FinishedAt?.ToUnixTimeSeconds() ?? 0, "s",
            "When the last successful backup ended (Unix time; 0: none yet).");
        meter.CreateObservableGauge("gateway.backup.last_duration", () => LastGood(catalog) is { FinishedAt: { } end } good ? (end - good.StartedAt).TotalSeconds : 0, "s",
            "How long the last successful backup took, start to end (0: none yet).");
        meter.CreateObservableGauge("gateway.backup.last_size", () => Sizes(LastGood(catalog)), "By",
            "What the last successful backup holds: the database's size (part=database) and the files' (part=files); 0: none yet.");
        meter.CreateObservableGauge("gateway.backup.last_hold", () => LastGood(catalog)?.Cut?.Hold.TotalSeconds ?? 0, "s",
            "How long the last successful backup held writes for its consistent cut (0: none yet).");
        meter.CreateObservableGauge("gateway.backup.last_failed", () => catalog.All.LastOrDefault(r => r.Status != BackupStatus.Running)?.Status is BackupStatus.Failed or BackupStatus.Interrupted ? 1 : 0,
            description: "1 while the most recent backup that ended did not succeed (the backup-failed alarm says why), 0 otherwise.");
        meter.CreateObservableGauge("gateway.backup.last_verify_success_timestamp", () => Drills(catalog).Where(d => d.Passed).Select(d => d.At.ToUnixTimeSeconds()).DefaultIfEmpty(0).Max(), "s",
            "When the last restore drill that passed ran (Unix time; 0: none yet).");
        meter.CreateObservableGauge("gateway.backup.last_verify_failed", () => Drills(catalog).MaxBy(d => d.At) is { Passed: false } ? 1 : 0,
            description: "1 while the most recent restore drill failed, 0 otherwise (none yet included).");
        meter.CreateObservableGauge("gateway.backup.max_age", () => options.MaxAge.TotalSeconds, "s",
            "Gateway:Backup:MaxAge: the stale-backup alert fires when the last successful backup is older.");
        meter.CreateObservableGauge("gateway.backup.verify_max_age", () => options.MaxVerifyAge.TotalSeconds, "s",
            "Gateway:Backup:MaxVerifyAge: the stale-drill alert fires when the last passed restore drill is older.");
        meter.CreateObservableGauge("gateway.backup.running", () => operations.Current is null ? 0 : 1,
            description: "1 while a backup, restore drill, restore or prune runs.");
    }

    public void Finished(BackupRecord record) =>
        _backups.Add(1, new TagList { { "result", record.Status.ToString().ToLowerInvariant() } });

    public void Held(TimeSpan hold) => _hold.Record(hold.TotalSeconds);

    public void Verified(VerifyRecord drill) => _verifications.Add(1, new TagList { { "result", drill.Passed ? "passed" : "failed" } });

    private static BackupRecord? LastGood(BackupCatalog catalog) => catalog.All.LastOrDefault(r => r.Status == BackupStatus.Succeeded);

    private static IEnumerable<VerifyRecord> Drills(BackupCatalog catalog) => catalog.All.SelectMany(r => r.Verifications);

    private static IEnumerable<Measurement<long>> Sizes(BackupRecord? record)
    {
        yield return new Measurement<long>(record?.Database?.DatabaseBytes ?? 0, new KeyValuePair<string, object?>("part", "database"));
        yield return new Measurement<long>(record?.Files?.Bytes ?? 0, new KeyValuePair<string, object?>("part", "files"));
    }
}
