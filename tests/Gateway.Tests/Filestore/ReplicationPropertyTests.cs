using Xunit.Abstractions;

namespace Gateway.Tests.Filestore;

[Integration]
public sealed class ReplicationPropertyTests(ITestOutputHelper output)
{
    private const int DefaultSequences = 200;

    // Every 70th sequence writes a 50 MiB file: three in a normal run, enough to cover large copies racing with writes.
    private const int LargeFileEvery = 70;

    // How long a sequence's last change may take to arrive by change events before the event path counts as having
    // missed it (liveness, not speed: it arrives within milliseconds when it arrives).
    private static readonly TimeSpan EventPatience = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Random operation sequences on A while the replicator runs (no periodic reconcile): B must end equal to A by
    /// SHA-256, every time. Change events must carry them almost always: .NET's recursive FileSystemWatcher has been
    /// seen to stop reporting under heavy directory churn (about one sequence in ten thousand here); such a sequence
    /// is repaired by a final sync, which must then leave B equal to A, and is counted; more than one in a hundred is
    /// a failure of the event path. FILESTORE_PROPERTY_SEQUENCES raises the count for a long run;
    /// FILESTORE_PROPERTY_SEED replays one (failing seeds are in the messages).
    /// </summary>
    [Fact]
    public async Task After_random_operations_on_A_the_replicator_settles_with_B_equal_to_A()
    {
        var sequences = int.TryParse(Environment.GetEnvironmentVariable("FILESTORE_PROPERTY_SEQUENCES"), out var count) ? count : DefaultSequences;
        var firstSeed = int.TryParse(Environment.GetEnvironmentVariable("FILESTORE_PROPERTY_SEED"), out var seed) ? seed : Random.Shared.Next();
        var missedByEvents = new List<string>();
        for (var i = 0; i < sequences; i++)
        {
            if (await RunSequenceAsync(firstSeed + i, withLargeFile: i % LargeFileEvery == 0) is { } miss)
            {
                missedByEvents.Add(miss);
                output.WriteLine(miss);
            }
        }

        Assert.True(
            missedByEvents.Count <= Math.Max(1, sequences / 100),
            $"change events missed changes in {missedByEvents.Count} of {sequences} sequences:\n{string.Join("\n\n", missedByEvents)}");
    }

    /// <returns>Null when change events carried every change; otherwise what they missed (a final sync repaired it).</returns>
    private static async Task<string?> RunSequenceAsync(int seed, bool withLargeFile)
    {
        using var sans = new SanPair();
        var log = new RecordingLogger();
        await using var replicator = sans.Start(logger: log);
        var operations = new RandomTreeOperations(sans.SanA, seed);
        try
        {
            operations.Run(new Random(seed).Next(5, 40), withLargeFile);
        }
        catch (IOException e)
        {
            // Only the test writes to A: a failure there means the replicator wrote into its source.
            throw new InvalidOperationException(
                $"seed {seed}: an operation on A failed ({e.Message}); status {replicator.Status}\noperations:\n  {string.Join("\n  ", operations.Log)}\nreplicator log:\n{log.Tail(300)}", e);
        }

        // inotify reports events in order: once the marker, written last (whole, by a rename), is on B, every earlier change has been queued.
        var marker = sans.A($"settled-{seed}");
        var markerTemp = sans.A($".settled-{seed}.tmp");
        await File.WriteAllTextAsync(markerTemp, "last");
        File.Move(markerTemp, marker);
        // The seed replays the operations; how they interleave with the replicator is up to the scheduler.
        var replay = $"seed {seed} (replay: FILESTORE_PROPERTY_SEED={seed} FILESTORE_PROPERTY_SEQUENCES=1{(withLargeFile ? ", large file" : "")})";
        string? miss = null;
        if (await Eventually.ReachedAsync(() => File.Exists(sans.B($"settled-{seed}")), EventPatience))
        {
            await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
            var (a, b) = (TreeFingerprint.Of(sans.SanA), TreeFingerprint.Of(sans.SanB));
            if (!a.SequenceEqual(b))
            {
                miss = $"{replay}: B differed from A once the events were caught up:\n{TreeFingerprint.Diff(a, b)}";
            }
        }
        else
        {
            miss = $"{replay}: the marker never arrived by change events";
        }

        if (miss is not null)
        {
            miss += $"\noperations:\n  {string.Join("\n  ", operations.Log)}\nstatus: {replicator.Status}\nreplicator log:\n{log.Tail(300)}";
            var final = await replicator.FinalSyncAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
            var (a, b) = (TreeFingerprint.Of(sans.SanA), TreeFingerprint.Of(sans.SanB));
            Assert.True(final.TargetIsCompleteReplica && a.SequenceEqual(b), $"not even a final sync made B equal to A ({final.Failure}):\n{TreeFingerprint.Diff(a, b)}\n{miss}");
        }

        // Every change was A's, so the ledger must have known every entry B lost: nothing came back to A.
        Assert.True(replicator.Status.CopiedBack == 0, $"{replay}: {replicator.Status.CopiedBack} entry(ies) copied back to A, so a delete was missed:\n{log.Tail(300)}");
        return miss;
    }
}
