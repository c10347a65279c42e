using System.Collections.Concurrent;
using System.Runtime.Versioning;
using Gateway.Filestore;
using Gateway.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Filestore;

public sealed class FilestoreReplicatorTests : IDisposable
{
    private readonly SanPair _sans = new();

    public void Dispose() => _sans.Dispose();

    private static void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    [Fact]
    public async Task The_initial_sync_copies_the_existing_tree_reports_its_progress_and_then_streams()
    {
        for (var i = 0; i < 20; i++)
        {
            Write(_sans.A($"d{i % 3}/sub/f{i}"), new string('x', i * 100));
        }

        File.CreateSymbolicLink(_sans.A("link"), "d0/sub");
        Directory.CreateDirectory(_sans.A("empty"));
        File.SetLastWriteTimeUtc(_sans.A("d1/sub/f1"), new DateTime(2020, 5, 17, 8, 30, 0, DateTimeKind.Utc));

        await using var replicator = _sans.Start();
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
        await Eventually.ReplicatedAsync(_sans, replicator);

        var status = replicator.Status;
        Assert.Equal(ReplicationState.Streaming, status.State);
        Assert.Equal(new ReplicationDirection("A", _sans.SanA, "B", _sans.SanB), status.Direction);
        Assert.Equal((0, 0L, (TimeSpan?)null), (status.PendingFiles, status.PendingBytes, status.OldestPendingChangeAge));
        Assert.Null(status.Alarm);
        var progress = status.InitialSync;
        // 20 files, 3 directories d0..d2 with their sub, the symlink, the empty directory.
        Assert.Equal((28, 28), (progress.FilesTotal, progress.FilesDone));
        Assert.Equal(Enumerable.Range(0, 20).Sum(i => i * 100L), progress.BytesTotal);
        Assert.Equal(progress.BytesTotal, progress.BytesDone);
        Assert.True(progress.Completed);
        Assert.Equal(TimeSpan.Zero, progress.EstimatedRemaining);
        Assert.Equal(new ReconcileReport(ReconcileTrigger.Start, status.LastReconcile!.StartedAt, status.LastReconcile.FinishedAt, false, 28, 28, null), status.LastReconcile);
        Assert.Equal(new DateTime(2020, 5, 17, 8, 30, 0, DateTimeKind.Utc), File.GetLastWriteTimeUtc(_sans.B("d1/sub/f1")));
        Assert.Equal("d0/sub", new FileInfo(_sans.B("link")).LinkTarget);
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public async Task A_replicated_file_keeps_its_mode()
    {
        Write(_sans.A("script"), "#!/bin/sh");
        File.SetUnixFileMode(_sans.A("script"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead);

        await using var replicator = _sans.Start();
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);

        Assert.Equal(File.GetUnixFileMode(_sans.A("script")), File.GetUnixFileMode(_sans.B("script")));
    }

    [Fact]
    public async Task Changes_after_the_start_are_replicated_from_change_events()
    {
        await using var replicator = _sans.Start();
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);

        Write(_sans.A("deposits/one"), "first");
        Write(_sans.A("deposits/deep/er/two"), "second");
        File.AppendAllText(_sans.A("deposits/one"), " and more");
        File.CreateSymbolicLink(_sans.A("latest"), "deposits/one");

        await Eventually.ReplicatedAsync(_sans, replicator);
        Assert.Equal(ReconcileTrigger.Start, replicator.Status.LastReconcile!.Trigger);
    }

    [Integration]
    [Fact]
    public async Task Deletes_and_renames_are_propagated_and_a_rename_moves_the_replica_instead_of_copying_it()
    {
        Write(_sans.A("dir/big"), new string('b', 100_000));
        Write(_sans.A("dir/gone"), "bye");
        Write(_sans.A("olddir/f"), "f");
        await using var replicator = _sans.Start();
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
        var inodeBefore = await InodeAsync(_sans.B("dir/big"));

        File.Move(_sans.A("dir/big"), _sans.A("dir/renamed"));
        await Eventually.ReplicatedAsync(_sans, replicator);
        Assert.Equal(inodeBefore, await InodeAsync(_sans.B("dir/renamed")));

        // Apart from the file's rename: a directory's rename restarts the watcher and rescans the whole tree, and
        // that rescan, racing the rename's own change, may delete the old name's copy first (then the file is copied).
        File.Delete(_sans.A("dir/gone"));
        Directory.Move(_sans.A("olddir"), _sans.A("newdir"));
        await Eventually.ReplicatedAsync(_sans, replicator);
    }

    private static async Task<string> InodeAsync(string path) => (await ProcessRunner.RunAsync("stat", ["-c", "%i", path])).Trim();

    [Fact]
    public async Task With_deletes_kept_the_target_keeps_what_the_source_deleted()
    {
        Write(_sans.A("a"), "a");
        Write(_sans.A("b"), "b");
        await using var replicator = _sans.Start(SanPair.Options(o => o.Deletes = DeletePolicy.Keep));
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);

        File.Delete(_sans.A("a"));
        File.Move(_sans.A("b"), _sans.A("c"));
        Write(_sans.A("marker"), "m");

        await Eventually.HoldsAsync(() => File.Exists(_sans.B("marker")) && File.Exists(_sans.B("c")), () => $"{replicator.Status}");
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
        Assert.Equal(["a", "b", "c", "marker"], Directory.GetFiles(_sans.SanB).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task Files_still_being_written_under_a_temp_name_are_replicated_only_under_their_final_name()
    {
        await using var replicator = _sans.Start();
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);

        Write(_sans.A(".upload.tmp"), "the whole deposit");
        File.Move(_sans.A(".upload.tmp"), _sans.A("upload"));
        Write(_sans.A(".pending.tmp"), "not finished");
        Write(_sans.A("marker"), "m");

        await Eventually.HoldsAsync(() => File.Exists(_sans.B("marker")) && File.Exists(_sans.B("upload")), () => $"{replicator.Status}");
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
        Assert.Equal("the whole deposit", File.ReadAllText(_sans.B("upload")));
        Assert.False(File.Exists(_sans.B(".pending.tmp")));
    }

    [Fact]
    public async Task The_periodic_reconcile_repairs_what_changed_on_the_target_and_checksums_find_what_size_and_time_cannot()
    {
        var time = new TimerRecordingClock();
        var options = SanPair.Options(o => (o.ReconcileInterval, o.ChecksumInterval) = (TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10)));
        Write(_sans.A("deleted-on-b"), "1");
        Write(_sans.A("edited-on-b"), "2");
        Write(_sans.A("corrupted-on-b"), "333");
        await using var replicator = _sans.Start(options, time);
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);

        File.Delete(_sans.B("deleted-on-b"));
        File.WriteAllText(_sans.B("edited-on-b"), "22");
        Write(_sans.B("added-on-b"), "x");
        // Same size, same time, other bytes: only a checksum can tell.
        var mtime = File.GetLastWriteTimeUtc(_sans.B("corrupted-on-b"));
        File.WriteAllText(_sans.B("corrupted-on-b"), "3X3");
        File.SetLastWriteTimeUtc(_sans.B("corrupted-on-b"), mtime);

        await ReconcileAtAsync(replicator, time, TimeSpan.FromMinutes(5), checksums: false);
        Assert.Equal("3X3", File.ReadAllText(_sans.B("corrupted-on-b")));
        Assert.Equal(3, replicator.Status.LastReconcile!.DifferencesQueued);
        // Differences no event reported: the watcher is replaced in case it stopped reporting.
        Assert.Equal(1, replicator.Status.WatcherRestarts);
        // A file on B that A never had is copied back to A, never deleted.
        Assert.Equal(["added-on-b", "corrupted-on-b", "deleted-on-b", "edited-on-b"], Directory.GetFiles(_sans.SanB).Select(Path.GetFileName).Order());
        Assert.Equal("x", File.ReadAllText(_sans.A("added-on-b")));
        Assert.Equal(1, replicator.Status.CopiedBack);

        await ReconcileAtAsync(replicator, time, TimeSpan.FromMinutes(5), checksums: true);
        Assert.Equal(1, replicator.Status.LastReconcile!.DifferencesQueued);
        await Eventually.ReplicatedAsync(_sans, replicator);
    }

    /// <summary>Moves the clock to the next scheduled reconcile and waits for it, and for what it queued.</summary>
    private static async Task ReconcileAtAsync(FilestoreReplicator replicator, TimerRecordingClock time, TimeSpan interval, bool checksums)
    {
        var before = replicator.Status.LastReconcile;
        var due = time.GetUtcNow() + interval;
        await Eventually.HoldsAsync(() => time.HasTimerDueAt(due), () => $"the reconcile loop never armed its timer for {due:O}: {replicator.Status}");
        time.Advance(interval);
        await Eventually.HoldsAsync(() => replicator.Status.LastReconcile != before, () => $"no reconcile ran: {replicator.Status}");
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
        Assert.Equal((ReconcileTrigger.Schedule, checksums, true), (replicator.Status.LastReconcile!.Trigger, replicator.Status.LastReconcile.ComparedChecksums, replicator.Status.LastReconcile.Succeeded));
    }

    /// <summary>A fake clock that remembers when the timers created on it fall due, so a test can wait until the one it means to fire is armed.</summary>
    private sealed class TimerRecordingClock : FakeTimeProvider
    {
        private readonly ConcurrentQueue<DateTimeOffset> _dueTimes = new();

        public bool HasTimerDueAt(DateTimeOffset due) => _dueTimes.Contains(due);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _dueTimes.Enqueue(GetUtcNow() + dueTime);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }

    [Fact]
    public async Task A_final_sync_replicates_the_backlog_and_declares_a_complete_replica()
    {
        await using var replicator = _sans.Start();
        for (var i = 0; i < 200; i++)
        {
            Write(_sans.A($"burst/{i % 7}/f{i}"), $"deposit {i}");
        }

        var result = await replicator.FinalSyncAsync(TimeSpan.FromMinutes(1), CancellationToken.None);

        Assert.True(result.TargetIsCompleteReplica, result.Failure);
        Assert.Empty(result.NotReplicated);
        Assert.Null(result.Failure);
        Assert.Equal(TreeFingerprint.Of(_sans.SanA), TreeFingerprint.Of(_sans.SanB));
        Assert.Equal(ReconcileTrigger.FinalSync, replicator.Status.LastReconcile!.Trigger);
    }

    [TmpfsFact]
    public async Task A_final_sync_past_its_deadline_lists_exactly_the_files_that_did_not_make_it()
    {
        await using var tmpfs = await TmpfsMount.MountAsync(_sans.SanB, "1m");
        await using var replicator = _sans.Start();
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
        var chunk = new byte[300 * 1024];
        for (var i = 0; i < 6; i++)
        {
            // Whole files only (temp, then rename, as the broker writes): a copy made while a file is being written in
            // place is the file as it was then, and replacing it later would need room for both.
            File.WriteAllBytes(_sans.A($".f{i}.tmp"), chunk);
            File.Move(_sans.A($".f{i}.tmp"), _sans.A($"f{i}"));
        }

        // Three fit in 1 MiB; once they are there, nothing can change on B before, during or after the final sync.
        await Eventually.HoldsAsync(() => Directory.GetFiles(_sans.SanB, "f*").Length == 3, () => $"{replicator.Status}");
        var result = await replicator.FinalSyncAsync(TimeSpan.FromSeconds(2), CancellationToken.None);

        var missing = Directory.GetFiles(_sans.SanA).Select(path => Path.GetFileName(path)).Where(name => !File.Exists(_sans.B(name))).Order().ToList();
        Assert.False(result.TargetIsCompleteReplica);
        Assert.Equal(3, missing.Count);
        Assert.Equal(missing, result.NotReplicated);
        Assert.StartsWith("the deadline of 00:00:02 passed before the target caught up", result.Failure);
        Assert.StartsWith($"target {_sans.SanB} failing for ", replicator.Status.Alarm);
        Assert.Contains("because the disk was full", replicator.Status.Alarm);
    }

    [TmpfsFact]
    public async Task A_final_sync_from_a_source_that_is_gone_lists_the_changes_it_knew_of_and_deletes_nothing()
    {
        await using var tmpfs = await TmpfsMount.MountAsync(_sans.SanB, "1m");
        Write(_sans.A("old"), "replicated long ago");
        await using var replicator = _sans.Start();
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
        // Known from its events but stuck (the target is full) when the source site dies.
        File.WriteAllBytes(_sans.A("new"), new byte[2 * 1024 * 1024]);
        await Eventually.HoldsAsync(() => replicator.Status.Alarm is not null, () => $"{replicator.Status}");
        Directory.Move(_sans.SanA, _sans.SanA + "-lost");

        var result = await replicator.FinalSyncAsync(TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.False(result.TargetIsCompleteReplica);
        Assert.Contains($"cannot scan {_sans.SanA}", result.Failure);
        Assert.Contains("listing the changes reported by events only", result.Failure);
        Assert.Equal(["new"], result.NotReplicated);
        Assert.True(File.Exists(_sans.B("old")), "a vanished source was read as 'everything deleted'");
        Assert.Equal(ReplicationState.Degraded, replicator.Status.State);
        Assert.Contains($"source {_sans.SanA} failing", replicator.Status.Alarm);
    }

    [Fact]
    public async Task The_reverse_direction_replicates_B_to_A_and_a_stopped_replicator_says_so()
    {
        Write(_sans.A("before-failover"), "1");
        await using var forward = _sans.Start();
        await forward.WaitUntilCaughtUpAsync(CancellationToken.None);
        await forward.StopAsync();
        Assert.Equal(ReplicationState.Stopped, forward.Status.State);
        await forward.StopAsync();

        Write(_sans.B("after-failover"), "2");
        File.Delete(_sans.B("before-failover"));
        await using var back = _sans.Start(direction: _sans.AToB.Reversed());
        await back.WaitUntilCaughtUpAsync(CancellationToken.None);

        Assert.Equal(new ReplicationDirection("B", _sans.SanB, "A", _sans.SanA), back.Direction);
        Assert.Equal(["after-failover"], Directory.GetFiles(_sans.SanA).Select(Path.GetFileName));
        Assert.Throws<InvalidOperationException>(forward.Start);
    }

    [Fact]
    public async Task A_target_missing_at_start_is_an_alarm_and_the_initial_sync_runs_once_it_is_there()
    {
        Write(_sans.A("waiting"), "for B");
        Directory.Delete(_sans.SanB);
        await using var replicator = _sans.Start();

        await Eventually.HoldsAsync(() => replicator.Status.Alarm?.Contains($"target {_sans.SanB} failing") == true, () => $"{replicator.Status}");
        Assert.Equal(ReplicationState.Degraded, replicator.Status.State);
        Assert.Contains($"cannot scan {_sans.SanB}", replicator.Status.LastReconcile!.Failure);

        Directory.CreateDirectory(_sans.SanB);
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
        await Eventually.ReplicatedAsync(_sans, replicator);
        Assert.Equal(ReplicationState.Streaming, replicator.Status.State);
        Assert.Null(replicator.Status.Alarm);
    }

    [Fact]
    public async Task A_source_missing_at_start_is_an_alarm_and_is_watched_once_it_is_there()
    {
        Directory.Delete(_sans.SanA);
        await using var replicator = _sans.Start();
        Assert.Contains($"cannot watch {_sans.SanA} for changes", replicator.Status.Alarm);

        Directory.CreateDirectory(_sans.SanA);
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
        Write(_sans.A("after"), "carried by a change event");

        await Eventually.ReplicatedAsync(_sans, replicator);
        Assert.Null(replicator.Status.Alarm);
    }
}
