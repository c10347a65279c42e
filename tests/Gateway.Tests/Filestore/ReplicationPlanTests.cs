using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class ReplicationPlanTests
{
    private static readonly DateTime Noon = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    private static SnapshotDifference Extra(string path, ReplicaEntry entry) => new(path, DifferenceKind.ExtraOnTarget, null, entry);

    [Fact]
    public void Propagating_deletes_removes_only_the_topmost_extra_directory()
    {
        var differences = new[]
        {
            Extra("old", ReplicaEntry.Directory),
            Extra("old/sub", ReplicaEntry.Directory),
            Extra("old/sub/f", ReplicaEntry.File(1, Noon)),
            Extra("oldfile", ReplicaEntry.File(1, Noon)),
        };

        var plan = ReplicationPlan.From(differences, DeletePolicy.Propagate);

        Assert.Equal(["old", "oldfile"], plan.Select(p => p.Hint.Path));
    }

    [Fact]
    public void Keeping_deletes_leaves_extra_entries_alone_but_still_replicates_the_rest()
    {
        var differences = new[]
        {
            Extra("old", ReplicaEntry.File(1, Noon)),
            new SnapshotDifference("new", DifferenceKind.MissingOnTarget, ReplicaEntry.File(7, Noon), null),
        };

        var plan = ReplicationPlan.From(differences, DeletePolicy.Keep);

        Assert.Equal([new PlannedChange(new ChangeHint("new"), 7)], plan);
        Assert.False(ReplicationPlan.Needs(differences[0], DeletePolicy.Keep));
        Assert.True(ReplicationPlan.Needs(differences[0], DeletePolicy.Propagate));
    }

    [Fact]
    public void Only_a_checksum_difference_forces_a_copy()
    {
        var file = ReplicaEntry.File(3, Noon);
        var plan = ReplicationPlan.From(
            [
                new SnapshotDifference("hashed", DifferenceKind.ContentDiffers, file, file),
                new SnapshotDifference("timed", DifferenceKind.ModifiedTimeDiffers, file, file),
            ],
            DeletePolicy.Propagate);

        Assert.Equal([true, false], plan.Select(p => p.Hint.ContentChanged));
        Assert.Equal([3L, 3L], plan.Select(p => p.Bytes));
    }
}
