using Gateway.Filestore;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Filestore;

public sealed class InitialSyncTests
{
    private static readonly ReplicationDirection AToB = new("A", "/san/a", "B", "/san/b");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly PendingChanges _pending = new();
    private readonly RecordingLogger _log = new();

    [Fact]
    public void The_plan_is_queued_before_anyone_waiting_for_it_is_let_go_and_counted_down_path_by_path()
    {
        var sync = new InitialSync(AToB, _pending, _time, _log);
        Assert.False(sync.Planned.IsCompleted);

        sync.Begin([new PlannedChange(new ChangeHint("a"), 100), new PlannedChange(new ChangeHint("b"), 300)], _time.GetUtcNow());

        Assert.True(sync.Planned.IsCompleted);
        Assert.Equal(new Backlog(2, 400, _time.GetUtcNow()), _pending.Measure());
        Assert.Contains("Initial sync A -> B (/san/a -> /san/b): 2 path(s), 400 bytes to replicate", _log.Messages);

        _time.Advance(TimeSpan.FromSeconds(2));
        sync.Replicated("a");
        sync.Replicated("not planned");
        Assert.False(sync.Completed);
        Assert.Equal((1, 100L), (sync.Progress().FilesDone, sync.Progress().BytesDone));

        sync.Replicated("b");
        Assert.True(sync.Completed);
        Assert.Contains(_log.Messages, message => message.StartsWith("Initial sync A -> B (/san/a -> /san/b) complete: 2 path(s), 400 bytes in 00:00:02", StringComparison.Ordinal));
    }

    [Fact]
    public void Nothing_to_copy_is_an_initial_sync_complete_at_once()
    {
        var sync = new InitialSync(AToB, _pending, _time, _log);

        sync.Begin([], _time.GetUtcNow());

        Assert.True(sync.Completed);
        Assert.True(sync.Planned.IsCompleted);
        Assert.Contains(_log.Messages, message => message.Contains(" complete: 0 path(s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Progress_is_logged_every_interval_until_the_initial_sync_is_complete()
    {
        var sync = new InitialSync(AToB, _pending, _time, _log);
        sync.Begin([new PlannedChange(new ChangeHint("a"), 100), new PlannedChange(new ChangeHint("b"), 100)], _time.GetUtcNow());
        using var stop = new CancellationTokenSource();
        var logging = sync.LogProgressAsync(TimeSpan.FromMinutes(1), stop.Token);

        sync.Replicated("a");
        _time.Advance(TimeSpan.FromMinutes(1));
        await Eventually.HoldsAsync(() => _log.Messages.Any(m => m.Contains(": 1/2 path(s), 100/200 bytes", StringComparison.Ordinal)), () => string.Join('\n', _log.Messages));

        sync.Replicated("b");
        _time.Advance(TimeSpan.FromMinutes(1));
        await logging.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(_log.Messages, m => m.Contains(" path(s), ", StringComparison.Ordinal) && m.Contains(" left", StringComparison.Ordinal));
    }
}
