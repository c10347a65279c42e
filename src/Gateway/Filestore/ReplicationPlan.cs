namespace Gateway.Filestore;

/// <summary>A hint to queue, with the bytes it will copy (the backlog counts them).</summary>
internal sealed record PlannedChange(ChangeHint Hint, long Bytes);

/// <summary>
/// Turns the differences between source and target into hints for the replication workers. Pure: the same
/// differences and policy always give the same plan.
/// </summary>
internal static class ReplicationPlan
{
    /// <summary>Whether the target must change for this difference; under <see cref="DeletePolicy.Keep"/> an extra entry on the target is wanted.</summary>
    public static bool Needs(SnapshotDifference difference, DeletePolicy deletes) =>
        difference.Kind != DifferenceKind.ExtraOnTarget || deletes == DeletePolicy.Propagate;

    public static IReadOnlyList<PlannedChange> From(IReadOnlyList<SnapshotDifference> differences, DeletePolicy deletes)
    {
        // Deleting a directory removes everything under it: one hint for the topmost extra directory is enough.
        var extraDirectories = differences
            .Where(d => d is { Kind: DifferenceKind.ExtraOnTarget, Target.Kind: EntryKind.Directory })
            .Select(d => d.Path)
            .ToHashSet(StringComparer.Ordinal);

        return differences
            .Where(d => Needs(d, deletes))
            .Where(d => d.Kind != DifferenceKind.ExtraOnTarget || !HasAncestorIn(d.Path, extraDirectories))
            .Select(d => new PlannedChange(
                // Only a checksum can see a change that size and time do not show; the worker would not copy it otherwise.
                new ChangeHint(d.Path, ContentChanged: d.Kind == DifferenceKind.ContentDiffers),
                d.Source is { Kind: EntryKind.File } file ? file.Size : 0))
            .ToList();
    }

    private static bool HasAncestorIn(string path, HashSet<string> directories)
    {
        for (var slash = path.LastIndexOf('/'); slash > 0; slash = path.LastIndexOf('/', slash - 1))
        {
            if (directories.Contains(path[..slash]))
            {
                return true;
            }
        }

        return false;
    }
}
