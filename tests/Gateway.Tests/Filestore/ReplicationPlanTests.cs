using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class ReplicationPlanTests
{
    private static readonly DateTime Noon = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    private static SnapshotDifference Extra(string path, ReplicaEntry entry) => new(path, DifferenceKind.ExtraOnTarget, null, entry);

    private static Func<string, ReplicaEntry, bool> Ledger(params (string Path, ReplicaEntry Entry)[] agreed)
    {
        var entries = agreed.ToDictionary(pair => pair.Path, pair => pair.Entry);
        return (path, target) => entries.TryGetValue(path, out var entry) && ReplicaLedger.Alike(entry, target);
    }

    [Fact]
    public void A_target_only_directory_is_handled_whole_from_its_topmost_entry()
    {
        var differences = new[]
        {
            Extra("old", ReplicaEntry.Directory),
            Extra("old/sub", ReplicaEntry.Directory),
            Extra("old/sub/f", ReplicaEntry.File(1, Noon)),
            Extra("oldfile", ReplicaEntry.File(1, Noon)),
        };

        var plan = ReplicationPlan.From(differences, DeletePolicy.Propagate, Ledger(("old", ReplicaEntry.Directory), ("oldfile", ReplicaEntry.File(1, Noon))));

        Assert.Equal(["old", "oldfile"], plan.Select(p => p.Hint.Path));
    }

    [Fact]
    public void Keeping_deletes_leaves_entries_both_held_alone_but_copies_back_what_the_source_never_had()
    {
        var differences = new[]
        {
            Extra("old", ReplicaEntry.File(1, Noon)),
            Extra("theirs", ReplicaEntry.File(5, Noon)),
            new SnapshotDifference("new", DifferenceKind.MissingOnTarget, ReplicaEntry.File(7, Noon), null),
        };
        var ledger = Ledger(("old", ReplicaEntry.File(1, Noon)));

        var plan = ReplicationPlan.From(differences, DeletePolicy.Keep, ledger);

        Assert.Equal([new PlannedChange(new ChangeHint("theirs"), 5), new PlannedChange(new ChangeHint("new"), 7)], plan);
        Assert.False(ReplicationPlan.Needs(differences[0], DeletePolicy.Keep, ledger));
        Assert.True(ReplicationPlan.Needs(differences[0], DeletePolicy.Propagate, ledger));
    }

    [Fact]
    public void Under_a_kept_directory_both_held_a_file_the_source_never_had_is_still_planned()
    {
        var differences = new[] { Extra("kept", ReplicaEntry.Directory), Extra("kept/theirs", ReplicaEntry.File(2, Noon)) };

        var plan = ReplicationPlan.From(differences, DeletePolicy.Keep, Ledger(("kept", ReplicaEntry.Directory)));

        Assert.Equal(["kept/theirs"], plan.Select(p => p.Hint.Path));
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
            DeletePolicy.Propagate,
            Ledger());

        Assert.Equal([true, false], plan.Select(p => p.Hint.ContentChanged));
        Assert.Equal([3L, 3L], plan.Select(p => p.Bytes));
    }
}
