namespace Gateway.Filestore;

/// <summary>
/// Full comparisons of both sides: the first plans the initial sync, the periodic ones queue whatever change events
/// missed (by size and time, and SHA-256 on its own schedule), and a final sync runs them until the sides agree.
/// One at a time; each leaves a <see cref="ReconcileReport"/>, and a failing one an alarm.
/// </summary>
internal sealed class ReconcileScanner(
    ReplicationDirection direction,
    ReplicationOptions options,
    ReplicaSides sides,
    ReplicaWriter writer,
    ReplicaLedger ledger,
    PendingChanges pending,
    ReplicationAlarms alarms,
    SourceWatch watch,
    InitialSync initialSync,
    TimeProvider time,
    ILogger logger) : IDisposable
{
    private const string AlarmKey = "(reconcile scan)";

    private readonly SemaphoreSlim _reconciling = new(1, 1);
    private volatile ReconcileReport? _lastReconcile;
    private DateTimeOffset _lastChecksumsAt;

    public ReconcileReport? LastReconcile => _lastReconcile;

    /// <summary>Whether a reconcile starting at <paramref name="startedAt"/> also compares checksums: only a scheduled one, once the checksum interval has passed.</summary>
    public static bool ChecksumsDue(ReconcileTrigger trigger, DateTimeOffset startedAt, DateTimeOffset lastChecksumsAt, TimeSpan checksumInterval) =>
        trigger == ReconcileTrigger.Schedule && startedAt - lastChecksumsAt >= checksumInterval;

    /// <summary>The files that size and time say are identical on both sides: only a checksum can find a difference there.</summary>
    public static IReadOnlyList<string> AlikeFiles(DirectorySnapshot source, DirectorySnapshot target) =>
        source.Entries
            .Where(pair => pair.Value.Kind == EntryKind.File
                && target.Entries.TryGetValue(pair.Key, out var twin)
                && SnapshotComparison.Difference(pair.Value, twin) is null)
            .Select(pair => pair.Key)
            .ToList();

    /// <summary>The start's reconcile (retried until it plans the initial sync), then one every reconcile interval, sooner after a failure.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        _lastChecksumsAt = time.GetUtcNow();
        var afterFailure = options.RetryMaxDelay < options.ReconcileInterval ? options.RetryMaxDelay : options.ReconcileInterval;
        var trigger = ReconcileTrigger.Start;
        while (true)
        {
            TimeSpan wait;
            try
            {
                await ReconcileAsync(trigger, stopping);
                wait = options.ReconcileInterval;
            }
            catch (ReplicationException)
            {
                // Recorded in the status and the alarm by ReconcileAsync; tried again sooner than the usual interval.
                wait = afterFailure;
            }
            catch (Exception bug) when (bug is not OperationCanceledException)
            {
                alarms.Raise(ReplicaSide.Source, AlarmKey, $"reconcile failed unexpectedly: {bug.Message}");
                ReplicatorLog.ReconcileFailedUnexpectedly(logger, direction.ToString(), bug);
                wait = afterFailure;
            }

            await Task.Delay(wait, time, stopping);
            trigger = initialSync.Planned.IsCompleted ? ReconcileTrigger.Schedule : ReconcileTrigger.Start;
        }
    }

    /// <summary>Scans both sides, queues every difference the target must follow, and returns those differences.</summary>
    public async Task<IReadOnlyList<SnapshotDifference>> ReconcileAsync(ReconcileTrigger trigger, CancellationToken cancellation)
    {
        await _reconciling.WaitAsync(cancellation);
        var startedAt = time.GetUtcNow();
        var checksums = ChecksumsDue(trigger, startedAt, _lastChecksumsAt, options.ChecksumInterval);
        try
        {
            watch.RestartIfItFailed();
            var (source, target) = await sides.ScanBothAsync(cancellation);
            if (checksums)
            {
                var alike = AlikeFiles(source, target);
                (source, target) = (await sides.HashAsync(ReplicaSide.Source, source, alike, cancellation), await sides.HashAsync(ReplicaSide.Target, target, alike, cancellation));
                _lastChecksumsAt = startedAt;
            }

            foreach (var leftover in target.ReplicaTempFiles)
            {
                writer.DeleteLeftoverTemp(leftover);
            }

            if (trigger != ReconcileTrigger.FinalSync)
            {
                // Not during a final sync, which scans again and again while writes wait: a snapshot of a large ledger takes a while.
                ledger.Reconcile(source, target);
            }

            var differences = SnapshotComparison.Compare(source, target).Where(d => ReplicationPlan.Needs(d, options.Deletes, ledger.Matches)).ToList();
            var plan = ReplicationPlan.From(differences, options.Deletes, ledger.Matches);
            if (trigger == ReconcileTrigger.Start)
            {
                initialSync.Begin(plan, startedAt);
            }
            else
            {
                pending.Add(plan, startedAt);
            }

            if (trigger == ReconcileTrigger.Schedule && plan.Count > 0)
            {
                // Some may be changes whose events are still on their way; a fresh watcher costs little either way.
                watch.Restart(EventLossCause.ReconcileFoundDifferences, $"the scheduled reconcile found {plan.Count} difference(s)");
            }

            alarms.Clear(AlarmKey);
            Record(new ReconcileReport(trigger, startedAt, time.GetUtcNow(), checksums, source.Entries.Count, plan.Count, null));
            return differences;
        }
        catch (ReplicationException failure)
        {
            alarms.Raise(failure.Side, AlarmKey, $"reconcile scan failed: {failure.Message}");
            Record(new ReconcileReport(trigger, startedAt, time.GetUtcNow(), checksums, 0, 0, failure.Message));
            throw;
        }
        finally
        {
            _reconciling.Release();
        }
    }

    public void Dispose() => _reconciling.Dispose();

    private void Record(ReconcileReport report)
    {
        _lastReconcile = report;
        ReplicatorLog.Reconciled(logger, report.Succeeded ? (report.DifferencesQueued > 0 ? LogLevel.Information : LogLevel.Debug) : LogLevel.Warning,
            direction.ToString(), report.Trigger, report.ComparedChecksums, report.SourceEntries, report.DifferencesQueued, report.Failure ?? "none");
    }
}
