using Gateway.Filestore;
using static Gateway.Tests.Filestore.SnapshotComparisonTests;

namespace Gateway.Tests.Filestore;

public sealed class ReconcileScannerTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTime Noon = T0.UtcDateTime;
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    [Fact]
    public void Checksums_are_compared_by_a_scheduled_reconcile_once_the_interval_has_passed_since_the_last_ones()
    {
        Assert.False(ReconcileScanner.ChecksumsDue(ReconcileTrigger.Schedule, T0 + Interval - TimeSpan.FromTicks(1), T0, Interval));
        Assert.True(ReconcileScanner.ChecksumsDue(ReconcileTrigger.Schedule, T0 + Interval, T0, Interval));
        Assert.True(ReconcileScanner.ChecksumsDue(ReconcileTrigger.Schedule, T0 + (3 * Interval), T0, Interval));
    }

    [Theory]
    [InlineData(ReconcileTrigger.Start)]
    [InlineData(ReconcileTrigger.FinalSync)]
    public void Neither_the_start_nor_a_final_sync_waits_for_checksums_however_long_ago_they_were(ReconcileTrigger trigger) =>
        Assert.False(ReconcileScanner.ChecksumsDue(trigger, T0 + (100 * Interval), T0, Interval));

    [Fact]
    public void Only_files_that_size_and_time_say_are_identical_on_both_sides_are_hashed()
    {
        (string Path, ReplicaEntry Entry)[] onBoth =
            [("same", ReplicaEntry.File(3, Noon)), ("sub", ReplicaEntry.Directory), ("sub/same", ReplicaEntry.File(0, Noon)), ("link", ReplicaEntry.Symlink("same"))];
        var source = Snapshot(
            [.. onBoth, ("longer-on-target", ReplicaEntry.File(3, Noon)), ("newer-on-target", ReplicaEntry.File(3, Noon)),
                ("source-only", ReplicaEntry.File(3, Noon)), ("file-here-directory-there", ReplicaEntry.File(3, Noon))]);
        var target = Snapshot(
            [.. onBoth, ("longer-on-target", ReplicaEntry.File(4, Noon)), ("newer-on-target", ReplicaEntry.File(3, Noon.AddSeconds(1))),
                ("target-only", ReplicaEntry.File(3, Noon)), ("file-here-directory-there", ReplicaEntry.Directory)]);

        Assert.Equal(["same", "sub/same"], ReconcileScanner.AlikeFiles(source, target).Order(StringComparer.Ordinal));
    }
}
