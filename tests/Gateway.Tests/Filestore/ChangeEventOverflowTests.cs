using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

/// <summary>
/// Tests that lower fs.inotify.max_queued_events run alone: every FileSystemWatcher of a process shares one inotify
/// instance, whose queue size is fixed when it is created, so no other watcher may exist when the test creates it.
/// </summary>
[CollectionDefinition(nameof(InotifyQueueLimit), DisableParallelization = true)]
public sealed class InotifyQueueLimit;

[Integration]
[Collection(nameof(InotifyQueueLimit))]
public sealed class ChangeEventOverflowTests
{
    private const string MaxQueuedEvents = "/proc/sys/fs/inotify/max_queued_events";

    // Lowered for the test's inotify instance only (the setting applies when an instance is created, and is restored
    // right after), to the smallest queue there is: whether a burst outruns the reader thread otherwise depends on the
    // scheduler, and a burst of the system's own limit (16384 events by default) would take long to replicate.
    private const int LoweredLimit = 1;

    // Each file is a create and a write event.
    private const int BurstFiles = 1000;

    [Fact]
    public async Task A_burst_larger_than_the_inotify_queue_is_detected_and_repaired_by_a_rescan()
    {
        Assert.True(Environment.IsPrivilegedProcess, $"this test lowers {MaxQueuedEvents} for a moment and must run as root, as tests/run.sh does");
        using var sans = new SanPair();
        var systemLimit = File.ReadAllText(MaxQueuedEvents).Trim();
        FilestoreReplicator replicator;
        File.WriteAllText(MaxQueuedEvents, LoweredLimit.ToString());
        try
        {
            replicator = sans.Start();
        }
        finally
        {
            File.WriteAllText(MaxQueuedEvents, systemLimit);
        }

        await using (replicator)
        {
            await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
            for (var i = 0; i < BurstFiles; i++)
            {
                var path = sans.A($"burst/{i % 10}/f{i}");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, $"file {i}");
            }

            File.WriteAllText(sans.A(".marker.tmp"), "last");
            File.Move(sans.A(".marker.tmp"), sans.A("marker"));
            await Eventually.HoldsAsync(() => File.Exists(sans.B("marker")), () => $"{replicator.Status}");
            await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);

            var status = replicator.Status;
            Assert.True(status.ChangeEventOverflows >= 1, $"{BurstFiles} files did not overflow an inotify queue of {LoweredLimit}; nothing was tested: {status}");
            var a = TreeFingerprint.Of(sans.SanA);
            var b = TreeFingerprint.Of(sans.SanB);
            Assert.True(a.SequenceEqual(b), $"missing or different on B after the rescan:\n{TreeFingerprint.Diff(a, b)}");
            Assert.Equal(BurstFiles + 1, b.Count(entry => entry.Value != "dir"));
            Assert.Equal(ReconcileTrigger.Start, status.LastReconcile!.Trigger);
            Assert.Equal(systemLimit, File.ReadAllText(MaxQueuedEvents).Trim());
        }
    }
}
