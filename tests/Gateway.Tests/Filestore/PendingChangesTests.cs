using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class PendingChangesTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Many_events_for_one_path_are_one_pending_change_that_remembers_the_earliest_and_all_they_said()
    {
        var pending = new PendingChanges();
        pending.Add(new ChangeHint("f"), 10, T0.AddSeconds(1));
        pending.Add(new ChangeHint("f", ContentChanged: true), 20, T0);
        pending.Add(new ChangeHint("f", RenamedFrom: "old"), 30, T0.AddSeconds(2));

        Assert.Equal(new Backlog(1, 30, T0), pending.Measure());
        var change = await pending.TakeAsync(CancellationToken.None);
        Assert.Equal(new ChangeHint("f", ContentChanged: true, RenamedFrom: "old"), change.Hint);
        Assert.Equal(T0, change.FirstSeen);
    }

    [Fact]
    public async Task A_path_being_replicated_is_not_handed_out_again_until_it_completes_and_then_it_is()
    {
        var pending = new PendingChanges();
        pending.Add(new ChangeHint("f"), 1, T0);
        var first = await pending.TakeAsync(CancellationToken.None);
        pending.Add(new ChangeHint("f", ContentChanged: true), 1, T0.AddSeconds(1));
        pending.Add(new ChangeHint("g"), 1, T0.AddSeconds(2));

        Assert.Equal("g", (await pending.TakeAsync(CancellationToken.None)).Path);
        using var nothingYet = new CancellationTokenSource();
        var third = pending.TakeAsync(nothingYet.Token).AsTask();
        Assert.False(third.IsCompleted, "f was handed out a second time while still in flight");

        pending.Complete(first);
        var again = await third;
        Assert.Equal(new ChangeHint("f", ContentChanged: true), again.Hint);
    }

    [Fact]
    public async Task Drained_only_once_nothing_is_queued_or_in_flight()
    {
        var pending = new PendingChanges();
        Assert.True(pending.WhenDrainedAsync(CancellationToken.None).IsCompleted);

        pending.Add(new ChangeHint("a"), 5, T0);
        pending.Add(new ChangeHint("b"), 7, T0.AddSeconds(1));
        var drained = pending.WhenDrainedAsync(CancellationToken.None);
        var a = await pending.TakeAsync(CancellationToken.None);
        Assert.Equal(["a", "b"], pending.Paths());
        Assert.Equal(new Backlog(2, 12, T0), pending.Measure());

        pending.Complete(a);
        Assert.False(drained.IsCompleted);
        pending.Complete(await pending.TakeAsync(CancellationToken.None));
        await drained;
        Assert.Equal(new Backlog(0, 0, null), pending.Measure());
    }

    [Fact]
    public async Task Two_renames_onto_one_name_keep_both_origins_in_view()
    {
        var pending = new PendingChanges();
        pending.Add(new ChangeHint("p", RenamedFrom: "a"), 1, T0);
        pending.Add(new ChangeHint("p", RenamedFrom: "b"), 1, T0);

        Assert.Equal(["a", "p"], pending.Paths());
        Assert.Equal(new ChangeHint("p", RenamedFrom: "b"), (await pending.TakeAsync(CancellationToken.None)).Hint);
    }
}
