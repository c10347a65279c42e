using Gateway.Database.Failover;
using static Gateway.Tests.Support.Observations;

namespace Gateway.Tests.Database.Failover;

public sealed class CatchUpProgressTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Probe = TimeSpan.FromMilliseconds(50);

    [Fact]
    public void A_standby_that_replayed_everything_it_received_has_caught_up_at_once()
    {
        var progress = new CatchUpProgress(target: null, planned: false, Now, Timeout);
        Assert.Equal(CatchUpState.CaughtUp, progress.Observe(Standby("B", received: 5000, replayed: 5000), Now));
    }

    [Fact]
    public void Unplanned_a_standby_stuck_short_of_what_it_received_is_done_once_nothing_moves_for_the_settle_time()
    {
        // The old primary died after sending the first 352 bytes of a record: replay stops at the record before it.
        var progress = new CatchUpProgress(target: null, planned: false, Now, Timeout);
        var stuck = Standby("B", received: 621019136, replayed: 621018784);

        var states = Enumerable.Range(0, 25).Select(i => progress.Observe(stuck, Now + (i * Probe))).ToList();

        Assert.All(states.Take(20), state => Assert.Equal(CatchUpState.Waiting, state));
        Assert.Equal(CatchUpState.ReplayedAllItCan, states[20]);
        Assert.Equal(621019136UL, progress.Goal);
    }

    [Fact]
    public void Unplanned_a_standby_still_replaying_is_waited_for()
    {
        var progress = new CatchUpProgress(target: null, planned: false, Now, Timeout);
        for (var i = 0; i < 40; i++)
        {
            var state = progress.Observe(Standby("B", received: 90000, replayed: 1000 + ((ulong)i * 100)), Now + (i * Probe));
            Assert.Equal(CatchUpState.Waiting, state);
        }
    }

    [Fact]
    public void Planned_a_standby_short_of_the_old_primarys_final_position_is_waited_for_until_the_timeout_so_the_switch_rolls_back()
    {
        // Replay held back (e.g. recovery_min_apply_delay): nothing moves, but the old primary is alive and must not lose its last writes.
        var progress = new CatchUpProgress(target: 8000, planned: true, Now, Timeout);
        var held = Standby("B", received: 8000, replayed: 6000);

        Assert.Equal(CatchUpState.Waiting, progress.Observe(held, Now + TimeSpan.FromSeconds(5)));
        Assert.Equal(CatchUpState.TimedOut, progress.Observe(held, Now + Timeout));
        Assert.Equal(8000UL, progress.Goal);
    }

    [Fact]
    public void A_node_already_out_of_recovery_needs_no_catch_up()
    {
        var progress = new CatchUpProgress(target: 8000, planned: true, Now, Timeout);
        Assert.Equal(CatchUpState.AlreadyPrimary, progress.Observe(Primary("B", flush: 7000), Now));
    }

    [Fact]
    public void An_unreachable_standby_is_waited_for_until_the_timeout()
    {
        var progress = new CatchUpProgress(target: null, planned: false, Now, Timeout);
        var down = Down("B", TimeSpan.FromSeconds(1), wasStandby: true);
        Assert.Equal(CatchUpState.Waiting, progress.Observe(down, Now + TimeSpan.FromSeconds(2)));
        Assert.Equal(CatchUpState.TimedOut, progress.Observe(down, Now + Timeout));
    }
}
