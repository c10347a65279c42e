using Gateway.Operations;

namespace Gateway.Backup;

public enum BackupStatus
{
    /// <summary>Under way; a gateway that finds this at start was killed in the middle and marks it <see cref="Interrupted"/>.</summary>
    Running,

    /// <summary>Both parts are in their repositories and the cut is recorded: restorable.</summary>
    Succeeded,

    Failed,

    /// <summary>The gateway stopped (or was killed) before the backup ended; whatever part the engines hold is removed.</summary>
    Interrupted,
}

/// <summary>
/// One backup of the database and the filestore together, as persisted in StateDirectory/backups/&lt;id&gt;.json
/// (replaced with fsync + rename at every step): only a record that says Succeeded is a backup to restore.
/// </summary>
public sealed record BackupRecord
{
    public required string Id { get; init; }

    public BackupStatus Status { get; init; } = BackupStatus.Running;

    /// <summary>Who asked: "operator" or "schedule".</summary>
    public string Why { get; init; } = "";

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public string Summary { get; init; } = "";

    /// <summary>The consistent cut: when writes were held, for how long, the restore point and where the file snapshot came from.</summary>
    public CutRecord? Cut { get; init; }

    public DatabasePartRecord? Database { get; init; }

    public FilesPartRecord? Files { get; init; }

    public IReadOnlyList<StepRecord> Steps { get; init; } = [];

    /// <summary>Restore drills of this backup, oldest first (the last few).</summary>
    public IReadOnlyList<VerifyRecord> Verifications { get; init; } = [];

    /// <summary>The step under way (persisted as it starts): where a gateway killed mid-backup stopped.</summary>
    public string? InProgress { get; init; }

    /// <summary>The engine process running for this backup right now (its process group), so a restarted gateway can stop one a crash left behind.</summary>
    public ToolProcess? RunningTool { get; init; }

    /// <summary>When the cut was made: what retention sorts by.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset? Time => Cut?.HeldAt;
}

/// <param name="HeldAt">When new writes began to be held.</param>
/// <param name="Hold">From holding writes to releasing them.</param>
/// <param name="RestorePoint">The name given to pg_create_restore_point: the recovery target of a restore.</param>
/// <param name="SnapshotSite">The site whose SAN the file snapshot was taken of (the replica, or the active SAN when no replication ran).</param>
public sealed record CutRecord(
    DateTimeOffset HeldAt,
    TimeSpan Hold,
    string PrimarySite,
    string RestorePoint,
    string RestorePointLsn,
    string RestorePointWalFile,
    string SnapshotSite,
    string SnapshotSource,
    TimeSpan Drain,
    TimeSpan CatchUp,
    TimeSpan Snapshot);

/// <param name="Label">pgBackRest's backup label (its --set).</param>
/// <param name="Prior">The label this differential or incremental backup builds on.</param>
/// <param name="FromSite">The node the files were copied from (the standby where one streamed).</param>
public sealed record DatabasePartRecord(
    string Tool,
    string Label,
    string Type,
    string? Prior,
    string FromSite,
    long DatabaseBytes,
    long RepositoryBytes,
    string StartLsn,
    string StopLsn,
    string Stanza);

public sealed record FilesPartRecord(string Tool, string SnapshotId, long Files, long Bytes, long AddedBytes);

public sealed record VerifyRecord(DateTimeOffset At, bool Passed, string Summary, TimeSpan Duration, IReadOnlyList<StepRecord> Steps);

/// <param name="ProcessGroup">The tool's process group id (it runs in a session of its own).</param>
/// <param name="StartTicks">Its start time in /proc/&lt;pid&gt;/stat (clock ticks since boot), so a recycled pid is never killed.</param>
public sealed record ToolProcess(int ProcessGroup, long StartTicks, string Command);
