using Gateway.Database.Observation;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Database.Observation;

/// <summary>The observer's snapshots as a completion signal: waiters woken by each one, bounded by a deadline on a fake clock.</summary>
public sealed class SnapshotFeedTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly SnapshotFeed<string> _feed;

    public SnapshotFeedTests() => _feed = new SnapshotFeed<string>(_time);

    [Fact]
    public async Task A_waiter_gets_the_next_snapshot_published_after_it_asked_not_an_earlier_one()
    {
        _feed.Publish("before");
        var next = _feed.NextAsync(CancellationToken.None);
        Assert.False(next.IsCompleted);

        _feed.Publish("after");

        Assert.Equal("after", await next);
    }

    [Fact]
    public async Task Waiting_for_a_condition_looks_at_each_snapshot_in_order_and_ends_at_the_first_it_accepts()
    {
        var seen = new List<string>();
        using var looked = new SemaphoreSlim(0);
        var followedBefore = false;
        var streaming = _feed.WaitForAsync(snapshot =>
        {
            seen.Add(snapshot);
            looked.Release();
            var twice = snapshot.StartsWith("following", StringComparison.Ordinal) && followedBefore;
            followedBefore = snapshot.StartsWith("following", StringComparison.Ordinal);
            return twice;
        }, TimeSpan.FromSeconds(60), CancellationToken.None);

        foreach (var snapshot in new[] { "following 1", "not following", "following 2", "following 3" })
        {
            _feed.Publish(snapshot);
            // The waiter is woken asynchronously; it has taken the next snapshot's signal once it looks at this one.
            Assert.True(await looked.WaitAsync(TimeSpan.FromSeconds(10)));
        }

        _feed.Publish("following 4");
        Assert.Equal("following 3", await streaming);
        Assert.Equal(["following 1", "not following", "following 2", "following 3"], seen);
    }

    [Fact]
    public async Task Waiting_ends_with_nothing_once_the_deadline_has_passed_on_the_clock_and_not_before()
    {
        var waiting = _feed.WaitForAsync(_ => false, TimeSpan.FromSeconds(20), CancellationToken.None);
        _feed.Publish("not following");

        _time.Advance(TimeSpan.FromSeconds(19));
        await Task.Yield();
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_cancelled_wait_throws_instead_of_reporting_a_timeout()
    {
        using var stopping = new CancellationTokenSource();
        var waiting = _feed.WaitForAsync(_ => false, TimeSpan.FromSeconds(20), stopping.Token);

        await stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}
