using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class SnapshotComparisonTests
{
    private static readonly DateTime Noon = new(2025, 3, 1, 12, 0, 0, DateTimeKind.Utc);

    /// <summary>A snapshot holding exactly these entries and no temp files.</summary>
    internal static DirectorySnapshot Snapshot(params (string Path, ReplicaEntry Entry)[] entries) =>
        new(entries.ToDictionary(e => e.Path, e => e.Entry, StringComparer.Ordinal), []);

    [Fact]
    public void Identical_trees_have_no_differences()
    {
        var tree = Snapshot(("d", ReplicaEntry.Directory), ("d/f", ReplicaEntry.File(3, Noon)), ("l", ReplicaEntry.Symlink("d/f")));
        Assert.Empty(SnapshotComparison.Compare(tree, tree));
    }

    [Fact]
    public void Every_kind_of_difference_is_named_with_its_path_in_path_order()
    {
        var source = Snapshot(
            ("new", ReplicaEntry.File(1, Noon)),
            ("grown", ReplicaEntry.File(2, Noon)),
            ("touched", ReplicaEntry.File(3, Noon)),
            ("was-a-dir", ReplicaEntry.File(4, Noon)),
            ("link", ReplicaEntry.Symlink("here")));
        var target = Snapshot(
            ("grown", ReplicaEntry.File(1, Noon)),
            ("touched", ReplicaEntry.File(3, Noon.AddSeconds(1))),
            ("was-a-dir", ReplicaEntry.Directory),
            ("link", ReplicaEntry.Symlink("there")),
            ("stale", ReplicaEntry.File(5, Noon)));

        var differences = SnapshotComparison.Compare(source, target).Select(d => (d.Path, d.Kind)).ToList();

        Assert.Equal(
            [
                ("grown", DifferenceKind.SizeDiffers),
                ("link", DifferenceKind.LinkTargetDiffers),
                ("new", DifferenceKind.MissingOnTarget),
                ("stale", DifferenceKind.ExtraOnTarget),
                ("touched", DifferenceKind.ModifiedTimeDiffers),
                ("was-a-dir", DifferenceKind.KindDiffers),
            ],
            differences);
    }

    [Fact]
    public void With_checksums_on_both_sides_content_decides_and_time_does_not()
    {
        var source = ReplicaEntry.File(3, Noon) with { Sha256 = "aa" };
        Assert.Null(SnapshotComparison.Difference(source, source with { ModifiedUtc = Noon.AddDays(1) }));
        Assert.Equal(DifferenceKind.ContentDiffers, SnapshotComparison.Difference(source, source with { Sha256 = "bb" }));
    }

    [Fact]
    public void A_checksum_on_one_side_only_falls_back_to_time()
    {
        var source = ReplicaEntry.File(3, Noon) with { Sha256 = "aa" };
        Assert.Null(SnapshotComparison.Difference(source, ReplicaEntry.File(3, Noon)));
        Assert.Equal(DifferenceKind.ModifiedTimeDiffers, SnapshotComparison.Difference(source, ReplicaEntry.File(3, Noon.AddTicks(1))));
    }

    [Fact]
    public void Size_is_compared_before_content()
    {
        var source = ReplicaEntry.File(3, Noon) with { Sha256 = "aa" };
        Assert.Equal(DifferenceKind.SizeDiffers, SnapshotComparison.Difference(source, ReplicaEntry.File(4, Noon) with { Sha256 = "aa" }));
    }
}
