using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Cli.Api;

// The backup API's documents as gatewayctl reads them: leniently, every field optional, so a newer gateway's extra
// fields never break a listing (--json shows them all).

/// <summary>GET /admin/backups.</summary>
public sealed class BackupListDocument
{
    public bool Enabled { get; init; }
    public BackupProgressRow? Running { get; init; }
    public List<BackupRow>? Backups { get; init; }
}

/// <summary>What a running backup, drill, restore or prune is doing.</summary>
public sealed class BackupProgressRow
{
    public string? Operation { get; init; }
    public string? Id { get; init; }
    public string? Step { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public long? BytesDone { get; init; }
    public long? BytesTotal { get; init; }
    public double? Percent { get; init; }
    public double? BytesPerSecond { get; init; }
    public JsonElement? Eta { get; init; }
}

/// <summary>One backup record (GET /admin/backups/{id}, POST /admin/backup).</summary>
public sealed class BackupRow
{
    public string? Id { get; init; }
    public string? Status { get; init; }
    public string? Why { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public string? Summary { get; init; }
    public CutRow? Cut { get; init; }
    public DatabasePartRow? Database { get; init; }
    public FilesPartRow? Files { get; init; }
    public List<StepRow>? Steps { get; init; }
    public List<DrillRow>? Verifications { get; init; }

    [JsonIgnore]
    public bool IsBackup => Id is not null && Status is not null;
}

public sealed class CutRow
{
    public DateTimeOffset? HeldAt { get; init; }
    public JsonElement? Hold { get; init; }
    public string? PrimarySite { get; init; }
    public string? RestorePoint { get; init; }
    public string? RestorePointLsn { get; init; }
    public string? SnapshotSource { get; init; }
    public JsonElement? Drain { get; init; }
    public JsonElement? CatchUp { get; init; }
    public JsonElement? Snapshot { get; init; }
}

public sealed class DatabasePartRow
{
    public string? Tool { get; init; }
    public string? Label { get; init; }
    public string? Type { get; init; }
    public string? FromSite { get; init; }
    public long? DatabaseBytes { get; init; }
    public long? RepositoryBytes { get; init; }
}

public sealed class FilesPartRow
{
    public string? Tool { get; init; }
    public string? SnapshotId { get; init; }
    public long? Files { get; init; }
    public long? Bytes { get; init; }
    public long? AddedBytes { get; init; }
}

/// <summary>A restore drill (POST /admin/backups/{id}/verify, and each backup's verifications).</summary>
public sealed class DrillRow
{
    public DateTimeOffset? At { get; init; }
    public bool? Passed { get; init; }
    public string? Summary { get; init; }
    public JsonElement? Duration { get; init; }
    public List<StepRow>? Steps { get; init; }

    [JsonIgnore]
    public bool IsDrill => Passed is not null;
}

/// <summary>POST /admin/backups/{id}/restore: exactly one of To and Site.</summary>
public sealed record RestoreBody(string? To, string? Site, string? TargetAction);

/// <summary>POST /admin/backups/prune: absent counts take the configured retention.</summary>
public sealed record PruneBody(int? KeepLast, int? KeepDaily, int? KeepWeekly, bool DryRun);
