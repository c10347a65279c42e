namespace Gateway.Filestore;

internal enum ReplicaAction
{
    None,
    CopyFile,
    CreateDirectory,
    CreateSymlink,
    DeleteFromTarget,
}

/// <summary>
/// What to do with one path, given what the source and the target hold under it now. Pure, so that every
/// combination is tested without touching a disk; the workers only carry the answer out.
/// </summary>
internal static class EntryDecision
{
    public static ReplicaAction Decide(ReplicaEntry? source, ReplicaEntry? target, bool contentChanged, DeletePolicy deletes) => (source, target) switch
    {
        (null, null) => ReplicaAction.None,
        (null, _) => deletes == DeletePolicy.Propagate ? ReplicaAction.DeleteFromTarget : ReplicaAction.None,
        ({ Kind: EntryKind.Directory }, { Kind: EntryKind.Directory }) => ReplicaAction.None,
        ({ Kind: EntryKind.Directory }, _) => ReplicaAction.CreateDirectory,
        ({ Kind: EntryKind.File }, _) when contentChanged => ReplicaAction.CopyFile,
        (_, null) => ActionFor(source),
        _ => SnapshotComparison.Difference(source, target) is null ? ReplicaAction.None : ActionFor(source),
    };

    /// <summary>
    /// A rename on the source can be a rename on the target: when the old name is really gone from the source and
    /// the target's entry under the old name is a faithful copy of what now sits under the new name. Anything else
    /// (a race, a copy not finished) falls back to replicating the new name from scratch.
    /// </summary>
    public static bool CanMoveReplica(ReplicaEntry? sourceOld, ReplicaEntry? sourceNew, ReplicaEntry? targetOld, ReplicaEntry? targetNew) =>
        sourceOld is null
        && sourceNew is not null
        && targetOld is not null
        && SnapshotComparison.Difference(sourceNew, targetOld) is null
        // rename(2) replaces a file or symlink, but not a directory that has entries; leave those to the normal path.
        && (targetNew is null || (targetNew.Kind != EntryKind.Directory && targetOld.Kind != EntryKind.Directory));

    private static ReplicaAction ActionFor(ReplicaEntry source) => source.Kind switch
    {
        EntryKind.File => ReplicaAction.CopyFile,
        EntryKind.Symlink => ReplicaAction.CreateSymlink,
        _ => ReplicaAction.CreateDirectory,
    };
}
