namespace Gateway.Filestore;

/// <summary>The replicator's log lines, written by each of its parts under the category of <see cref="FilestoreReplicator"/>.</summary>
internal static partial class ReplicatorLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "Filestore replication {Direction} started ({Parallel} parallel copies, deletes: {Deletes})")]
    public static partial void Started(ILogger logger, string direction, int parallel, DeletePolicy deletes);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Filestore replication {Direction} stopped")]
    public static partial void Stopped(ILogger logger, string direction);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Initial sync {Direction}: {Files} path(s), {Bytes} bytes to replicate")]
    public static partial void InitialSyncPlanned(ILogger logger, string direction, int files, long bytes);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information,
        Message = "Initial sync {Direction}: {FilesDone}/{FilesTotal} path(s), {BytesDone}/{BytesTotal} bytes, {MegabytesPerSecond:F1} MB/s, {Remaining} left")]
    public static partial void InitialSyncProgress(
        ILogger logger, string direction, int filesDone, int filesTotal, long bytesDone, long bytesTotal, double megabytesPerSecond, string remaining);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information,
        Message = "Initial sync {Direction} complete: {Files} path(s), {Bytes} bytes in {Elapsed} ({MegabytesPerSecond:F1} MB/s)")]
    public static partial void InitialSyncCompleted(ILogger logger, string direction, int files, long bytes, TimeSpan elapsed, double megabytesPerSecond);

    [LoggerMessage(EventId = 6,
        Message = "Reconcile of {Direction} ({Trigger}, checksums: {Checksums}): {Entries} source entries, {Queued} difference(s) queued; failure: {Failure}")]
    public static partial void Reconciled(
        ILogger logger, LogLevel level, string direction, ReconcileTrigger trigger, bool checksums, int entries, int queued, string failure);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning,
        Message = "Change events of {Source} were lost ({Reason}); watching afresh and rescanning the whole tree")]
    public static partial void ChangeEventsOverflowed(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "Watching {Source} for changes failed ({Reason}); watching afresh and rescanning the whole tree")]
    public static partial void ChangeFeedFailed(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 16, Level = LogLevel.Error, Message = "Reconcile of {Direction} failed unexpectedly")]
    public static partial void ReconcileFailedUnexpectedly(ILogger logger, string direction, Exception error);

    [LoggerMessage(EventId = 15, Level = LogLevel.Debug, Message = "Watching {Source} afresh and rescanning it: {Reason}")]
    public static partial void Rewatched(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning,
        Message = "Replicating {Path} ({Direction}) failed, attempt {Attempt}: {Error}; retrying in {RetryIn}")]
    public static partial void ReplicationFailing(ILogger logger, string path, string direction, int attempt, string error, TimeSpan retryIn);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Replicating {Path} ({Direction}) succeeded again")]
    public static partial void ReplicationRecovered(ILogger logger, string path, string direction);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "Replicating {Path} ({Direction}) failed unexpectedly")]
    public static partial void ReplicationFailedUnexpectedly(ILogger logger, string path, string direction, Exception error);

    [LoggerMessage(EventId = 12, Message = "Final sync {Direction}: complete replica {Complete}, {NotReplicated} path(s) not replicated, {Elapsed}; failure: {Failure}")]
    public static partial void FinalSync(ILogger logger, LogLevel level, string direction, bool complete, int notReplicated, TimeSpan elapsed, string failure);

    [LoggerMessage(EventId = 13, Level = LogLevel.Debug, Message = "Renamed the replica of {From} to {To} on {Target} instead of copying it again")]
    public static partial void MovedReplica(ILogger logger, string from, string to, string target);

    [LoggerMessage(EventId = 17, Level = LogLevel.Information,
        Message = "Copied {Path} back from {Target} to {Source}: the source never had it, so it is kept, not deleted")]
    public static partial void CopiedBack(ILogger logger, string path, string target, string source);

    [LoggerMessage(EventId = 18, Level = LogLevel.Warning,
        Message = "Delete of {Path} ({Direction}) held: more than {MaxPerMinute} deletes in a minute; POST /admin/filestore/release-deletes after checking the source")]
    public static partial void DeleteHeld(ILogger logger, string path, string direction, int maxPerMinute);

    [LoggerMessage(EventId = 20, Level = LogLevel.Error,
        Message = "Filestore replication {Direction}: copies or scans under way did not end within {Timeout} of the stop (stuck in the kernel on a hung mount?); they are abandoned")]
    public static partial void StopAbandoned(ILogger logger, string direction, TimeSpan timeout);

    [LoggerMessage(EventId = 19, Level = LogLevel.Error, Message = "Filestore ledger of {Direction} could not be flushed: {Error}")]
    public static partial void LedgerFlushFailed(ILogger logger, string direction, string error);

    [LoggerMessage(EventId = 14, Level = LogLevel.Trace, Message = "{Path} ({Hint}): source {Source}, target {Target}: {Action}")]
    public static partial void Deciding(ILogger logger, string path, ChangeHint hint, ReplicaEntry? source, ReplicaEntry? target, ReplicaAction action);
}
