namespace Gateway.Tests.Filestore;

[Integration]
public sealed class InterruptedCopyTests
{
    // One file large enough that its copy is surely under way when the replicator is stopped, and a few others.
    private const int LargeFileBytes = 320 * 1024 * 1024;
    private const int SmallerFileBytes = 16 * 1024 * 1024;
    private const int SmallerFiles = 3;

    /// <summary>
    /// A replicator stopped in the middle of large copies, then a leftover temp file planted as a kill -9 would leave
    /// it (in-process, no cleanup can be skipped for real: <see cref="ReplicatorKilledMidCopyTests"/> kills a real
    /// gateway process). Throughout, B never shows a final name with partial content; after a restart, B converges
    /// and no temp file is left.
    /// </summary>
    [Fact]
    public async Task Stopped_mid_copy_B_shows_no_partial_file_under_a_final_name_and_a_restart_converges()
    {
        using var sans = new SanPair();
        var sizes = new Dictionary<string, long> { ["large"] = LargeFileBytes };
        for (var i = 0; i < SmallerFiles; i++)
        {
            sizes[$"f{i}"] = SmallerFileBytes;
        }

        foreach (var (name, size) in sizes)
        {
            ReplicaOnDisk.WriteRandom(sans.A(name), size);
        }

        using var watching = new CancellationTokenSource();
        var partialFiles = Task.Run(() => ReplicaOnDisk.PartialFilesUnderFinalNames(sans.SanA, sans.SanB, sizes, watching.Token));

        await using (var first = sans.Start())
        {
            // Stopped while the large file's bytes are being written: a copy whose bytes are all written is in its group's flush, which a stop lets finish.
            Assert.True(
                await ReplicaOnDisk.CatchHalfWrittenCopyAsync(sans.SanB, "large", sans.A("large"), Eventually.Patience),
                $"the large copy was never seen half written: {first.Status}");
        }

        Assert.False(File.Exists(sans.B("large")), "the large copy finished before the stop; nothing was interrupted");
        var leftover = sans.B($".large.{Guid.NewGuid():N}.repl-tmp");
        ReplicaOnDisk.WriteRandom(leftover, LargeFileBytes / 3);

        await using (var second = sans.Start())
        {
            await second.WaitUntilCaughtUpAsync(CancellationToken.None);
            await Eventually.ReplicatedAsync(sans, second);
        }

        await watching.CancelAsync();
        Assert.Empty(await partialFiles);
        Assert.Empty(ReplicaOnDisk.TempFiles(sans.SanB));
    }
}
