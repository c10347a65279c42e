namespace Gateway.Filestore;

public enum EntryKind
{
    File,
    Directory,
    Symlink,
}

/// <summary>One name in a replica as seen by lstat: what it is, and for a file its size, modification time and (when computed) SHA-256.</summary>
public sealed record ReplicaEntry(EntryKind Kind, long Size = 0, DateTime ModifiedUtc = default, string? LinkTarget = null, string? Sha256 = null)
{
    public static ReplicaEntry Directory { get; } = new(EntryKind.Directory);

    public static ReplicaEntry File(long size, DateTime modifiedUtc) => new(EntryKind.File, size, modifiedUtc);

    public static ReplicaEntry Symlink(string linkTarget) => new(EntryKind.Symlink, LinkTarget: linkTarget);

    public override string ToString() => Kind switch
    {
        EntryKind.File => $"file of {Size} bytes, modified {ModifiedUtc:O}{(Sha256 is null ? "" : $", sha256 {Sha256}")}",
        EntryKind.Symlink => $"symlink to {LinkTarget}",
        _ => "directory",
    };
}

/// <summary>
/// A replica tree at one moment: every replicated name under the root (relative, '/'-separated) with its entry, plus
/// the replicator's own temp files found there (left behind by a crash, unless a copy is using them right now).
/// </summary>
public sealed class DirectorySnapshot(IReadOnlyDictionary<string, ReplicaEntry> entries, IReadOnlyList<string> replicaTempFiles)
{
    public IReadOnlyDictionary<string, ReplicaEntry> Entries { get; } = entries;

    public IReadOnlyList<string> ReplicaTempFiles { get; } = replicaTempFiles;

    public DirectorySnapshot WithHashes(IReadOnlyDictionary<string, string> sha256ByPath) => new(
        Entries.ToDictionary(
            pair => pair.Key,
            pair => sha256ByPath.TryGetValue(pair.Key, out var sha256) ? pair.Value with { Sha256 = sha256 } : pair.Value,
            StringComparer.Ordinal),
        ReplicaTempFiles);
}
