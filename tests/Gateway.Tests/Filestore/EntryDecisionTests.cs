using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class EntryDecisionTests
{
    private static readonly DateTime Noon = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly ReplicaEntry File3 = ReplicaEntry.File(3, Noon);
    private static readonly ReplicaEntry Dir = ReplicaEntry.Directory;
    private static readonly ReplicaEntry Link = ReplicaEntry.Symlink("x");

    // Columns: situation, source, target, what the ledger says both held (null: never seen alike), content changed, policy, action.
    public static TheoryData<string, ReplicaEntry?, ReplicaEntry?, ReplicaEntry?, bool, DeletePolicy, string> Cases => new()
    {
        { "nothing on either side", null, null, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.None) },
        { "gone from the source, propagated", null, File3, File3, false, DeletePolicy.Propagate, nameof(ReplicaAction.DeleteFromTarget) },
        { "gone from the source, kept", null, File3, File3, false, DeletePolicy.Keep, nameof(ReplicaAction.None) },
        { "a directory gone from the source", null, Dir, Dir, false, DeletePolicy.Propagate, nameof(ReplicaAction.DeleteFromTarget) },
        { "a symlink gone from the source", null, Link, Link, false, DeletePolicy.Propagate, nameof(ReplicaAction.DeleteFromTarget) },
        { "on the target only, the source never had it", null, File3, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyBack) },
        { "on the target only, never had, kept", null, File3, null, false, DeletePolicy.Keep, nameof(ReplicaAction.CopyBack) },
        { "on the target only, changed since both held it", null, File3 with { ModifiedUtc = Noon.AddSeconds(1) }, File3, false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyBack) },
        { "on the target only, another size than both held", null, ReplicaEntry.File(4, Noon), File3, false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyBack) },
        { "a directory on the target only: walked, its entries each by the rule", null, Dir, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.DeleteFromTarget) },
        { "a directory on the target only, kept", null, Dir, null, false, DeletePolicy.Keep, nameof(ReplicaAction.None) },
        { "a file where both held a directory", null, File3, Dir, false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyBack) },
        { "a symlink on the target only, pointing elsewhere than both held", null, ReplicaEntry.Symlink("y"), Link, false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyBack) },
        { "a new file", File3, null, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyFile) },
        { "an identical file", File3, File3, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.None) },
        { "an identical-looking file that was written", File3, File3, File3, true, DeletePolicy.Propagate, nameof(ReplicaAction.CopyFile) },
        { "a file of another size", File3, ReplicaEntry.File(4, Noon), null, false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyFile) },
        { "a file of another time", File3, File3 with { ModifiedUtc = Noon.AddSeconds(1) }, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyFile) },
        { "a file where the target has a directory both held", File3, Dir, Dir, false, DeletePolicy.Keep, nameof(ReplicaAction.CopyFile) },
        { "a file where the target has a directory the ledger never saw (walked first)", File3, Dir, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyFile) },
        { "a symlink where the target has a file of another kind of its own", Link, ReplicaEntry.File(1, Noon), ReplicaEntry.File(2, Noon), false, DeletePolicy.Keep, nameof(ReplicaAction.Conflict) },
        { "a file where the target has a symlink of its own", File3, Link, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.Conflict) },
        { "a new directory", Dir, null, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.CreateDirectory) },
        { "a directory where the target has a file both held", Dir, File3, File3, false, DeletePolicy.Propagate, nameof(ReplicaAction.CreateDirectory) },
        { "a directory where the target has a file of its own", Dir, File3, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.Conflict) },
        { "an existing directory", Dir, Dir, null, true, DeletePolicy.Propagate, nameof(ReplicaAction.None) },
        { "a new symlink", Link, null, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.CreateSymlink) },
        { "an identical symlink", Link, Link, null, true, DeletePolicy.Propagate, nameof(ReplicaAction.None) },
        { "a symlink pointing elsewhere", Link, ReplicaEntry.Symlink("y"), null, false, DeletePolicy.Propagate, nameof(ReplicaAction.CreateSymlink) },
        { "a symlink where the target has a file both held", Link, File3, File3, false, DeletePolicy.Propagate, nameof(ReplicaAction.CreateSymlink) },
        { "a symlink where the target has a file of its own", Link, File3, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.Conflict) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_combination_of_source_target_and_ledger_gets_its_action(
        string situation, ReplicaEntry? source, ReplicaEntry? target, ReplicaEntry? agreed, bool contentChanged, DeletePolicy deletes, string expected) =>
        // The action travels by name: test data must be public, the decision is internal.
        Assert.True(expected == EntryDecision.Decide(source, target, CameFrom(agreed, target), contentChanged, deletes).ToString(), $"{situation}: expected {expected}");

    private static bool CameFrom(ReplicaEntry? agreed, ReplicaEntry? target) => agreed is not null && target is not null && ReplicaLedger.Alike(agreed, target);

    /// <summary>
    /// The invariant, over every combination: a delete only ever removes a file or symlink the ledger says came from
    /// the source (a directory is only walked); a target-only file or symlink the ledger does not know is copied back.
    /// </summary>
    [Fact]
    public void No_combination_deletes_a_file_the_ledger_does_not_know()
    {
        ReplicaEntry?[] entries = [null, File3, ReplicaEntry.File(4, Noon), File3 with { ModifiedUtc = Noon.AddTicks(1) }, Dir, Link, ReplicaEntry.Symlink("y")];
        foreach (var source in entries)
        {
            foreach (var target in entries)
            {
                foreach (var agreed in entries)
                {
                    foreach (var deletes in Enum.GetValues<DeletePolicy>())
                    {
                        var action = EntryDecision.Decide(source, target, CameFrom(agreed, target), contentChanged: false, deletes);
                        if (action == ReplicaAction.DeleteFromTarget && target is not { Kind: EntryKind.Directory })
                        {
                            Assert.True(source is null && target is not null && agreed is not null && ReplicaLedger.Alike(agreed, target),
                                $"deleted {target} (source {source?.ToString() ?? "none"}, ledger {agreed?.ToString() ?? "none"})");
                        }

                        if (target is { Kind: not EntryKind.Directory } && source is null && (agreed is null || !ReplicaLedger.Alike(agreed, target)))
                        {
                            Assert.Equal(ReplicaAction.CopyBack, action);
                        }
                    }
                }
            }
        }
    }

    public static TheoryData<string, ReplicaEntry?, ReplicaEntry?, ReplicaEntry?, ReplicaEntry?, ReplicaEntry?, bool> Renames => new()
    {
        { "a faithful copy under the old name", null, File3, File3, null, null, true },
        { "a faithful copy replacing an old file both held", null, File3, File3, ReplicaEntry.File(9, Noon), ReplicaEntry.File(9, Noon), true },
        { "a faithful copy over a file of the target's own", null, File3, File3, ReplicaEntry.File(9, Noon), null, false },
        { "a renamed directory", null, Dir, Dir, null, null, true },
        { "the old name is back on the source", File3, File3, File3, null, null, false },
        { "the copy under the old name is stale", null, File3, ReplicaEntry.File(2, Noon), null, null, false },
        { "no copy under the old name", null, File3, null, null, null, false },
        { "the new name is gone again", null, null, File3, null, null, false },
        { "a directory where a directory already is", null, Dir, Dir, Dir, Dir, false },
    };

    [Theory]
    [MemberData(nameof(Renames))]
    public void A_rename_reuses_the_target_copy_only_when_it_is_faithful_and_destroys_nothing_of_the_targets_own(
        string situation, ReplicaEntry? sourceOld, ReplicaEntry? sourceNew, ReplicaEntry? targetOld, ReplicaEntry? targetNew, ReplicaEntry? agreedNew, bool expected) =>
        Assert.True(expected == EntryDecision.CanMoveReplica(sourceOld, sourceNew, targetOld, targetNew, CameFrom(agreedNew, targetNew)), $"{situation}: expected {expected}");
}
