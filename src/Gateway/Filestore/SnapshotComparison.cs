namespace Gateway.Filestore;

public enum DifferenceKind
{
    /// <summary>On the source, not on the target.</summary>
    MissingOnTarget,

    /// <summary>On the target, not on the source.</summary>
    ExtraOnTarget,

    /// <summary>A file on one side, a directory or symlink on the other.</summary>
    KindDiffers,

    SizeDiffers,

    /// <summary>Same size, different modification time: compared this way when no checksums were computed.</summary>
    ModifiedTimeDiffers,

    /// <summary>Same size, different SHA-256.</summary>
    ContentDiffers,

    LinkTargetDiffers,
}

public sealed record SnapshotDifference(string Path, DifferenceKind Kind, ReplicaEntry? Source, ReplicaEntry? Target);

/// <summary>
/// Compares two snapshots, source against target. Pure: no file system, no clock. Files compare by size, then by
/// SHA-256 when both sides carry one, otherwise by modification time (the replicator preserves it on every copy).
/// </summary>
public static class SnapshotComparison
{
    /// <summary>Every difference, ordered by path.</summary>
    public static IReadOnlyList<SnapshotDifference> Compare(DirectorySnapshot source, DirectorySnapshot target)
    {
        var differences = new List<SnapshotDifference>();
        foreach (var (path, sourceEntry) in source.Entries)
        {
            if (!target.Entries.TryGetValue(path, out var targetEntry))
            {
                differences.Add(new(path, DifferenceKind.MissingOnTarget, sourceEntry, null));
            }
            else if (Difference(sourceEntry, targetEntry) is { } kind)
            {
                differences.Add(new(path, kind, sourceEntry, targetEntry));
            }
        }

        foreach (var (path, targetEntry) in target.Entries)
        {
            if (!source.Entries.ContainsKey(path))
            {
                differences.Add(new(path, DifferenceKind.ExtraOnTarget, null, targetEntry));
            }
        }

        differences.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return differences;
    }

    /// <summary>How two entries under the same name differ, or null when the target is a faithful copy.</summary>
    public static DifferenceKind? Difference(ReplicaEntry source, ReplicaEntry target) => (source, target) switch
    {
        _ when source.Kind != target.Kind => DifferenceKind.KindDiffers,
        ({ Kind: EntryKind.Directory }, _) => null,
        ({ Kind: EntryKind.Symlink }, _) => source.LinkTarget == target.LinkTarget ? null : DifferenceKind.LinkTargetDiffers,
        _ when source.Size != target.Size => DifferenceKind.SizeDiffers,
        ({ Sha256: { } sourceHash }, { Sha256: { } targetHash }) => sourceHash == targetHash ? null : DifferenceKind.ContentDiffers,
        _ => source.ModifiedUtc == target.ModifiedUtc ? null : DifferenceKind.ModifiedTimeDiffers,
    };
}
