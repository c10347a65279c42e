namespace Gateway.Tests.Filestore;

public sealed class ReplicationPropertyTests
{
    private const int DefaultSequences = 200;

    // Every 70th sequence writes a 50 MiB file: three in a normal run, enough to cover large copies racing with writes.
    private const int LargeFileEvery = 70;

    /// <summary>
    /// Random operation sequences on A while the replicator runs, with only change events to carry them (no periodic
    /// reconcile): once it has caught up, B equals A by SHA-256. FILESTORE_PROPERTY_SEQUENCES raises the count for a
    /// long run; FILESTORE_PROPERTY_SEED replays one (the failing seed is in the message).
    /// </summary>
    [Fact]
    public async Task After_random_operations_on_A_the_replicator_settles_with_B_equal_to_A()
    {
        var sequences = int.TryParse(Environment.GetEnvironmentVariable("FILESTORE_PROPERTY_SEQUENCES"), out var count) ? count : DefaultSequences;
        var firstSeed = int.TryParse(Environment.GetEnvironmentVariable("FILESTORE_PROPERTY_SEED"), out var seed) ? seed : Random.Shared.Next();
        for (var i = 0; i < sequences; i++)
        {
            await RunSequenceAsync(firstSeed + i, withLargeFile: i % LargeFileEvery == 0);
        }
    }

    private static async Task RunSequenceAsync(int seed, bool withLargeFile)
    {
        using var sans = new SanPair();
        var log = new RecordingLogger();
        await using var replicator = sans.Start(logger: log);
        var operations = new RandomTreeOperations(sans.SanA, seed);
        operations.Run(new Random(seed).Next(5, 40), withLargeFile);

        // inotify reports events in order: once the marker, written last (whole, by a rename), is on B, every earlier change has been queued.
        var marker = sans.A($"settled-{seed}");
        var markerTemp = sans.A($".settled-{seed}.tmp");
        await File.WriteAllTextAsync(markerTemp, "last");
        File.Move(markerTemp, marker);
        // The seed replays the operations; how they interleave with the replicator is up to the scheduler.
        var replay = $"seed {seed} (replay: FILESTORE_PROPERTY_SEED={seed} FILESTORE_PROPERTY_SEQUENCES=1{(withLargeFile ? ", large file" : "")})";
        await Eventually.HoldsAsync(() => File.Exists(sans.B($"settled-{seed}")), () => $"{replay}: the marker never reached B; {replicator.Status}\noperations:\n  {string.Join("\n  ", operations.Log)}\nreplicator log:\n{log.Tail(300)}");
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);

        var a = TreeFingerprint.Of(sans.SanA);
        var b = TreeFingerprint.Of(sans.SanB);
        Assert.True(
            a.SequenceEqual(b),
            $"{replay}: B differs from A after the replicator caught up:\n{TreeFingerprint.Diff(a, b)}\noperations:\n  {string.Join("\n  ", operations.Log)}\nstatus: {replicator.Status}\nreplicator log:\n{log.Tail(300)}");
    }
}
