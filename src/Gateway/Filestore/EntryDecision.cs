namespace Gateway.Filestore;

internal enum ReplicaAction
{
    None,
    CopyFile,
    CreateDirectory,
    CreateSymlink,

    /// <summary>
    /// The source removed an entry the ledger says came from it: remove it from the target too. For a directory, a
    /// walk of what is in it, each entry by this same rule, and the directory itself once empty.
    /// </summary>
    DeleteFromTarget,

    /// <summary>The target holds an entry the source never had (as it is now): bring it to the source, never delete it.</summary>
    CopyBack,

    /// <summary>
    /// Source and target hold different kinds of entry at one path and the target's file or symlink was never the
    /// source's: replacing it would destroy data the source never had, so it is left alone and raised as an alarm.
    /// </summary>
    Conflict,
}

/// <summary>
/// What to do with one path, given what the source and the target hold under it now and whether the ledger knows the
/// target's entry there as a version the source had. Pure, so that every combination is tested without touching a disk; the workers
/// only carry the answer out. The rule that keeps failback from losing files: a target-only file or symlink is
/// deleted only when it matches the ledger (the source had it and removed it); otherwise it is copied back. A
/// directory holds no data of its own: it goes, or not, with what is in it.
/// </summary>
internal static class EntryDecision
{
    /// <param name="targetCameFromSource">The ledger knows the target's entry as a version the source had.</param>
    public static ReplicaAction Decide(ReplicaEntry? source, ReplicaEntry? target, bool targetCameFromSource, bool contentChanged, DeletePolicy deletes) => (source, target) switch
    {
        (null, null) => ReplicaAction.None,
        (null, { Kind: EntryKind.Directory }) => deletes == DeletePolicy.Propagate ? ReplicaAction.DeleteFromTarget : ReplicaAction.None,
        (null, _) when targetCameFromSource => deletes == DeletePolicy.Propagate ? ReplicaAction.DeleteFromTarget : ReplicaAction.None,
        (null, _) => ReplicaAction.CopyBack,
        ({ Kind: EntryKind.Directory }, { Kind: EntryKind.Directory }) => ReplicaAction.None,
        ({ } s, { Kind: not EntryKind.Directory } t) when s.Kind != t.Kind && !targetCameFromSource => ReplicaAction.Conflict,
        ({ Kind: EntryKind.Directory }, _) => ReplicaAction.CreateDirectory,
        ({ Kind: EntryKind.File }, _) when contentChanged => ReplicaAction.CopyFile,
        (_, null) => ActionFor(source),
        _ => SnapshotComparison.Difference(source, target) is null ? ReplicaAction.None : ActionFor(source),
    };

    /// <summary>
    /// A rename on the source can be a rename on the target: when the old name is really gone from the source, the
    /// target's entry under the old name is a faithful copy of what now sits under the new name, and whatever the
    /// target holds under the new name was the source's (a rename over it must not destroy a target-only entry).
    /// Anything else (a race, a copy not finished) falls back to replicating the new name from scratch.
    /// </summary>
    public static bool CanMoveReplica(ReplicaEntry? sourceOld, ReplicaEntry? sourceNew, ReplicaEntry? targetOld, ReplicaEntry? targetNew, bool targetNewCameFromSource) =>
        sourceOld is null
        && sourceNew is not null
        && targetOld is not null
        && SnapshotComparison.Difference(sourceNew, targetOld) is null
        && (targetNew is null || targetNewCameFromSource)
        // rename(2) replaces a file or symlink, but not a directory that has entries; leave those to the normal path.
        && (targetNew is null || (targetNew.Kind != EntryKind.Directory && targetOld.Kind != EntryKind.Directory));

    private static ReplicaAction ActionFor(ReplicaEntry source) => source.Kind switch
    {
        EntryKind.File => ReplicaAction.CopyFile,
        EntryKind.Symlink => ReplicaAction.CreateSymlink,
        _ => ReplicaAction.CreateDirectory,
    };
}
