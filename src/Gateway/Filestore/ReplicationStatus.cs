
namespace Gateway.Filestore;

public enum ReplicationState
{
    /// <summary>The first full copy after start is under way; changes are replicated meanwhile too.</summary>
    InitialSync,

    /// <summary>Caught up once; changes are replicated as they happen.</summary>
    Streaming,

    /// <summary>Something fails (the target is full or gone, the source unreadable): see the alarm. Retried with backoff.</summary>
    Degraded,

    Stopped,
}

public enum ReconcileTrigger
{
    /// <summary>The full scan at start, which plans the initial sync.</summary>
    Start,

    /// <summary>The periodic scan.</summary>
    Schedule,

    /// <summary>Part of a final sync before failover.</summary>
    FinalSync,
}

/// <summary>One full comparison of source and target: when, why, how, and what it found (the differences it queued), or why it failed.</summary>
public sealed record ReconcileReport(
    ReconcileTrigger Trigger,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    bool ComparedChecksums,
    int SourceEntries,
    int DifferencesQueued,
    string? Failure)
{
    public bool Succeeded => Failure is null;
}

/// <summary>Progress of the initial full sync: what the first reconcile found to copy, and how much of it is done.</summary>
public sealed record InitialSyncProgress(
    int FilesTotal,
    int FilesDone,
    long BytesTotal,
    long BytesDone,
    double? BytesPerSecond,
    TimeSpan? EstimatedRemaining,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt)
{
    public static InitialSyncProgress NotStarted { get; } = new(0, 0, 0, 0, null, null, null, null);

    public bool Completed => CompletedAt is not null;
}

/// <summary>
/// The replicator at one moment, immutable: for the coordinator's decisions, the admin status and metrics. The
/// backlog counts paths queued or being copied (a directory or a delete is one); its age is that of the oldest change
/// not yet on the target. Each time change events may have been lost (<see cref="ChangeEventOverflows"/> of inotify's
/// queue among them) the watcher was restarted and the whole tree rescanned: <see cref="WatcherRestarts"/>.
/// <see cref="ChangeEventsComplete"/> is false while the source is not watched or a whole-tree rescan is still due:
/// the pending list may then miss changes. <see cref="HeldDeletes"/> are deletes the mass-delete breaker holds back;
/// <see cref="CopiedBack"/> counts entries the target held that the source never had, copied to the source.
/// </summary>
public sealed record ReplicationStatus(
    ReplicationDirection Direction,
    ReplicationState State,
    int PendingFiles,
    long PendingBytes,
    TimeSpan? OldestPendingChangeAge,
    ReconcileReport? LastReconcile,
    InitialSyncProgress InitialSync,
    long ChangeEventOverflows,
    long WatcherRestarts,
    string? Alarm,
    DateTimeOffset AsOf,
    HeldDeletes? HeldDeletes = null,
    long CopiedBack = 0,
    bool ChangeEventsComplete = true);

/// <summary>
/// The outcome of a final sync: whether the target now holds everything the source does, and if not, exactly which
/// paths (relative to the SAN root) did not make it, and why. <see cref="ComparedBothSides"/> is false when the list
/// comes from change events alone, because the source could not be scanned.
/// </summary>
public sealed record FinalSyncResult(
    ReplicationDirection Direction,
    bool TargetIsCompleteReplica,
    IReadOnlyList<string> NotReplicated,
    TimeSpan Elapsed,
    string? Failure,
    bool ComparedBothSides = true);
