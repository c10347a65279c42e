namespace Gateway.Filestore;

/// <summary>A hint to queue, with the bytes it will copy (the backlog counts them).</summary>
internal sealed record PlannedChange(ChangeHint Hint, long Bytes);

/// <summary>
/// Turns the differences between source and target into hints for the replication workers. Pure: the same
/// differences, ledger and policy always give the same plan.
/// </summary>
internal static class ReplicationPlan
{
    /// <summary>
    /// Whether something must be done for this difference: a target-only file the source never had is copied back
    /// under either policy; one the source had and removed, and a target-only directory (walked entry by entry), only
    /// under <see cref="DeletePolicy.Propagate"/>.
    /// </summary>
    public static bool Needs(SnapshotDifference difference, DeletePolicy deletes, Func<string, ReplicaEntry, bool> cameFromSource) =>
        difference is not { Kind: DifferenceKind.ExtraOnTarget, Target: { } target }
        || deletes == DeletePolicy.Propagate
        || (target.Kind != EntryKind.Directory && !cameFromSource(difference.Path, target));

    /// <summary>Whether the target lacks something the source holds (what a final sync must finish, and what a failover can lose).</summary>
    public static bool TargetLacks(SnapshotDifference difference) => difference.Source is not null;

    public static IReadOnlyList<PlannedChange> From(IReadOnlyList<SnapshotDifference> differences, DeletePolicy deletes, Func<string, ReplicaEntry, bool> cameFromSource)
    {
        // The worker handles a target-only directory as a whole (its entries one by one): one hint for the topmost is enough.
        var needed = differences.Where(d => Needs(d, deletes, cameFromSource)).ToList();
        var extraDirectories = needed
            .Where(d => d is { Kind: DifferenceKind.ExtraOnTarget, Target.Kind: EntryKind.Directory })
            .Select(d => d.Path)
            .ToHashSet(StringComparer.Ordinal);

        return needed
            .Where(d => d.Kind != DifferenceKind.ExtraOnTarget || !HasAncestorIn(d.Path, extraDirectories))
            .Select(d => new PlannedChange(
                // Only a checksum can see a change that size and time do not show; the worker would not copy it otherwise.
                new ChangeHint(d.Path, ContentChanged: d.Kind == DifferenceKind.ContentDiffers),
                (d.Source ?? d.Target) is { Kind: EntryKind.File } file ? file.Size : 0))
            .ToList();
    }

    private static bool HasAncestorIn(string path, HashSet<string> directories) => RelativePaths.Ancestors(path).Any(directories.Contains);
}
