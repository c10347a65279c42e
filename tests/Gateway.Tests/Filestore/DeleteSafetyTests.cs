using Gateway.Filestore;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Filestore;

/// <summary>
/// The filestore's delete invariant against real directories: a delete reaches the replica only for an entry the
/// replicator saw come from the source and then saw removed; what the replica holds that the source never had is
/// copied back, never deleted; and mass deletes trip a breaker that holds them until an operator releases them.
/// </summary>
public sealed class DeleteSafetyTests : IDisposable
{
    private readonly SanPair _sans = new();

    public void Dispose() => _sans.Dispose();

    private static void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>
    /// The way back after an outage: B took deposits while it was active and A was away; then replication runs
    /// A -> B again (a link forced onto A, or a restart). B's deposits must not be deleted: they go to A.
    /// </summary>
    [Fact]
    public async Task Files_only_the_replica_holds_are_copied_back_to_the_source_never_deleted()
    {
        Write(_sans.A("shared/1"), "before the outage");
        await using (var forward = _sans.Start())
        {
            await forward.WaitUntilCaughtUpAsync(CancellationToken.None);
        }

        for (var i = 0; i < 20; i++)
        {
            Write(_sans.B($"deposits/{i:D3}"), $"acknowledged on B #{i}");
        }

        await using var again = _sans.Start();
        await again.WaitUntilCaughtUpAsync(CancellationToken.None);
        await Eventually.ReplicatedAsync(_sans, again);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal($"acknowledged on B #{i}", File.ReadAllText(_sans.B($"deposits/{i:D3}")));
            Assert.Equal($"acknowledged on B #{i}", File.ReadAllText(_sans.A($"deposits/{i:D3}")));
        }

        Assert.Equal(20, again.Status.CopiedBack);
    }

    /// <summary>A delete made while no replicator ran (the gateway was down) is still propagated: the ledger on disk knows the file came from the source.</summary>
    [Fact]
    public async Task A_delete_made_while_no_replicator_ran_is_propagated_because_the_ledger_remembers()
    {
        Write(_sans.A("keep"), "k");
        Write(_sans.A("remove"), "r");
        await using (var first = _sans.Start())
        {
            await first.WaitUntilCaughtUpAsync(CancellationToken.None);
            await Eventually.HoldsAsync(() => File.Exists(_sans.B("remove")), () => $"{first.Status}");
        }

        File.Delete(_sans.A("remove"));
        Write(_sans.B("theirs"), "written on B alone");

        await using var second = _sans.Start();
        await second.WaitUntilCaughtUpAsync(CancellationToken.None);

        Assert.False(File.Exists(_sans.B("remove")));
        Assert.True(File.Exists(_sans.B("keep")));
        Assert.Equal("written on B alone", File.ReadAllText(_sans.A("theirs")));
    }

    /// <summary>
    /// A file on the replica that was changed there after it was replicated is not the source's any more: when the
    /// source removes its own, the replica's changed copy is copied back rather than deleted.
    /// </summary>
    [Fact]
    public async Task A_replica_file_changed_after_it_was_replicated_is_copied_back_when_the_source_deletes_it()
    {
        Write(_sans.A("f"), "v1");
        await using var replicator = _sans.Start();
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
        await Eventually.HoldsAsync(() => File.Exists(_sans.B("f")), () => $"{replicator.Status}");
        await replicator.StopAsync();

        File.WriteAllText(_sans.B("f"), "changed on B");
        File.Delete(_sans.A("f"));

        await using var again = _sans.Start();
        await again.WaitUntilCaughtUpAsync(CancellationToken.None);

        Assert.Equal("changed on B", File.ReadAllText(_sans.B("f")));
        Assert.Equal("changed on B", File.ReadAllText(_sans.A("f")));
    }

    [Fact]
    public async Task Past_the_limit_deletes_are_held_until_released_and_a_restart_keeps_the_breaker_open()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var options = SanPair.Options(o => o.MaxDeletesPerMinute = 3);
        var marker = Path.Combine(_sans.Root, "state", "A-B.deletes-held");
        for (var i = 0; i < 10; i++)
        {
            Write(_sans.A($"f{i}"), $"{i}");
        }

        var breaker = new DeleteBreaker(options.MaxDeletesPerMinute, time, marker);
        await using (var replicator = new FilestoreReplicator(_sans.AToB, options, time, Microsoft.Extensions.Logging.Abstractions.NullLogger<FilestoreReplicator>.Instance, _sans.Ledger, breaker))
        {
            replicator.Start();
            await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
            await Eventually.HoldsAsync(() => Directory.GetFiles(_sans.SanB).Length == 10, () => $"{replicator.Status}");

            for (var i = 0; i < 10; i++)
            {
                File.Delete(_sans.A($"f{i}"));
            }

            await Eventually.HoldsAsync(() => replicator.Status.HeldDeletes is { Count: 7 }, () => $"{replicator.Status}");
            await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
            Assert.Equal(7, Directory.GetFiles(_sans.SanB).Length);
            Assert.Equal(3, replicator.Status.HeldDeletes!.MaxPerMinute);
            Assert.True(File.Exists(marker));
        }

        // A restart: the breaker stays open, so no further minute's worth of deletes goes through.
        var reopened = new DeleteBreaker(3, time, marker);
        Assert.True(reopened.IsOpen);
        await using var restarted = new FilestoreReplicator(_sans.AToB, options, time, Microsoft.Extensions.Logging.Abstractions.NullLogger<FilestoreReplicator>.Instance, _sans.Ledger, reopened);
        restarted.Start();
        await restarted.WaitUntilCaughtUpAsync(CancellationToken.None);
        Assert.Equal(7, Directory.GetFiles(_sans.SanB).Length);
        Assert.Equal(7, restarted.Status.HeldDeletes!.Count);

        Assert.Equal(7, restarted.ReleaseHeldDeletes());
        await Eventually.HoldsAsync(() => Directory.GetFiles(_sans.SanB).Length == 0, () => $"{restarted.Status}");
        Assert.Null(restarted.Status.HeldDeletes);
        Assert.False(File.Exists(marker));
    }
}
