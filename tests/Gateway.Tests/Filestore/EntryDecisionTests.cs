using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class EntryDecisionTests
{
    private static readonly DateTime Noon = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly ReplicaEntry File3 = ReplicaEntry.File(3, Noon);
    private static readonly ReplicaEntry Dir = ReplicaEntry.Directory;
    private static readonly ReplicaEntry Link = ReplicaEntry.Symlink("x");

    public static TheoryData<string, ReplicaEntry?, ReplicaEntry?, bool, DeletePolicy, string> Cases => new()
    {
        { "nothing on either side", null, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.None) },
        { "gone from the source, propagated", null, File3, false, DeletePolicy.Propagate, nameof(ReplicaAction.DeleteFromTarget) },
        { "gone from the source, kept", null, File3, false, DeletePolicy.Keep, nameof(ReplicaAction.None) },
        { "a directory gone from the source", null, Dir, false, DeletePolicy.Propagate, nameof(ReplicaAction.DeleteFromTarget) },
        { "a new file", File3, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyFile) },
        { "an identical file", File3, File3, false, DeletePolicy.Propagate, nameof(ReplicaAction.None) },
        { "an identical-looking file that was written", File3, File3, true, DeletePolicy.Propagate, nameof(ReplicaAction.CopyFile) },
        { "a file of another size", File3, ReplicaEntry.File(4, Noon), false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyFile) },
        { "a file of another time", File3, File3 with { ModifiedUtc = Noon.AddSeconds(1) }, false, DeletePolicy.Propagate, nameof(ReplicaAction.CopyFile) },
        { "a file where the target has a directory", File3, Dir, false, DeletePolicy.Keep, nameof(ReplicaAction.CopyFile) },
        { "a new directory", Dir, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.CreateDirectory) },
        { "a directory where the target has a file", Dir, File3, false, DeletePolicy.Propagate, nameof(ReplicaAction.CreateDirectory) },
        { "an existing directory", Dir, Dir, true, DeletePolicy.Propagate, nameof(ReplicaAction.None) },
        { "a new symlink", Link, null, false, DeletePolicy.Propagate, nameof(ReplicaAction.CreateSymlink) },
        { "an identical symlink", Link, Link, true, DeletePolicy.Propagate, nameof(ReplicaAction.None) },
        { "a symlink pointing elsewhere", Link, ReplicaEntry.Symlink("y"), false, DeletePolicy.Propagate, nameof(ReplicaAction.CreateSymlink) },
        { "a symlink where the target has a file", Link, File3, false, DeletePolicy.Propagate, nameof(ReplicaAction.CreateSymlink) },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_combination_of_source_and_target_gets_its_action(
        string situation, ReplicaEntry? source, ReplicaEntry? target, bool contentChanged, DeletePolicy deletes, string expected) =>
        // The action travels by name: test data must be public, the decision is internal.
        Assert.True(expected == EntryDecision.Decide(source, target, contentChanged, deletes).ToString(), $"{situation}: expected {expected}");

    public static TheoryData<string, ReplicaEntry?, ReplicaEntry?, ReplicaEntry?, ReplicaEntry?, bool> Renames => new()
    {
        { "a faithful copy under the old name", null, File3, File3, null, true },
        { "a faithful copy replacing an old file", null, File3, File3, ReplicaEntry.File(9, Noon), true },
        { "a renamed directory", null, Dir, Dir, null, true },
        { "the old name is back on the source", File3, File3, File3, null, false },
        { "the copy under the old name is stale", null, File3, ReplicaEntry.File(2, Noon), null, false },
        { "no copy under the old name", null, File3, null, null, false },
        { "the new name is gone again", null, null, File3, null, false },
        { "a directory where a directory already is", null, Dir, Dir, Dir, false },
    };

    [Theory]
    [MemberData(nameof(Renames))]
    public void A_rename_reuses_the_target_copy_only_when_it_is_faithful(
        string situation, ReplicaEntry? sourceOld, ReplicaEntry? sourceNew, ReplicaEntry? targetOld, ReplicaEntry? targetNew, bool expected) =>
        Assert.True(expected == EntryDecision.CanMoveReplica(sourceOld, sourceNew, targetOld, targetNew), $"{situation}: expected {expected}");
}
