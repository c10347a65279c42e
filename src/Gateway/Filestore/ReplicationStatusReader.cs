namespace Gateway.Filestore;

/// <summary>Reads the replicator's parts into one immutable <see cref="ReplicationStatus"/>.</summary>
internal sealed class ReplicationStatusReader(
    ReplicationDirection direction,
    PendingChanges pending,
    ReplicationAlarms alarms,
    InitialSync initialSync,
    ReconcileScanner scanner,
    SourceWatch watch,
    DeleteBreaker breaker,
    PathReplicator paths,
    TimeProvider time)
{
    /// <summary>Stopped, else degraded while anything fails, else streaming once the initial sync is complete.</summary>
    public static ReplicationState StateOf(bool stopped, bool failing, bool initialSyncCompleted) =>
        stopped ? ReplicationState.Stopped
        : failing ? ReplicationState.Degraded
        : initialSyncCompleted ? ReplicationState.Streaming
        : ReplicationState.InitialSync;

    public ReplicationStatus Read(bool stopped)
    {
        var now = time.GetUtcNow();
        var backlog = pending.Measure();
        return new ReplicationStatus(
            direction,
            StateOf(stopped, alarms.IsRaised, initialSync.Completed),
            backlog.Files,
            backlog.Bytes,
            now - backlog.OldestChange,
            scanner.LastReconcile,
            initialSync.Progress(),
            watch.ChangeEventOverflows,
            watch.WatcherRestarts,
            alarms.Describe(direction),
            now,
            breaker.Describe(),
            paths.CopiedBack,
            // Complete only while watched and with no whole-tree rescan still due.
            watch.IsWatching && !pending.Has(""));
    }
}
