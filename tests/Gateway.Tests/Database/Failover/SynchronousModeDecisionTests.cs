using Gateway.Configuration;
using Gateway.Database;
using Gateway.Database.Failover;
using static Gateway.Tests.Support.Observations;

namespace Gateway.Tests.Database.Failover;

public sealed class SynchronousModeDecisionTests
{
    private static readonly TimeSpan DegradeAfter = TimeSpan.FromSeconds(2);

    [Fact]
    public void Off_leaves_the_primary_alone() =>
        Assert.Null(SynchronousModeDecision.Decide(SynchronousMode.Off, Primary("A", 1), null, DegradeAfter, Now).StandbyNames);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Strict_always_waits_for_a_standby(bool streaming)
    {
        var verdict = SynchronousModeDecision.Decide(SynchronousMode.Strict, Primary("A", 1, streaming), streaming ? null : Now.AddMinutes(-5), DegradeAfter, Now);
        Assert.Equal(("*", false), (verdict.StandbyNames, verdict.Degraded));
    }

    [Fact]
    public void Degrade_waits_for_a_streaming_standby() =>
        Assert.Equal("*", SynchronousModeDecision.Decide(SynchronousMode.Degrade, Primary("A", 1), null, DegradeAfter, Now).StandbyNames);

    [Fact]
    public void Degrade_counts_a_standby_that_says_streaming_but_has_not_answered_pending_WAL_for_2_s_as_absent()
    {
        // A cut link: the walsender says "streaming" until wal_sender_timeout while commits wait for replies that never come.
        var silent = Primary("A", 5000) with { Peers = [new("walreceiver", "10.0.0.2", "streaming", "sync", 4000, null, TimeSpan.FromSeconds(3))] };
        Assert.False(silent.Peers[0].IsStreaming);

        var verdict = SynchronousModeDecision.Decide(SynchronousMode.Degrade, silent, Now.AddSeconds(-3), DegradeAfter, Now);
        Assert.Equal(("", true), (verdict.StandbyNames, verdict.Degraded));
    }

    [Theory]
    [InlineData(null, true)] // it has confirmed everything the primary flushed: idle, however long since its last reply
    [InlineData(1.5, true)] // WAL pending, answered recently: a standby at work
    [InlineData(2.0, false)]
    public void A_streaming_standby_counts_while_it_answers_within_2_s_of_pending_WAL(double? silentSeconds, bool streaming)
    {
        var peer = new Gateway.Database.Observation.ReplicationPeer(
            "walreceiver", "10.0.0.2", "streaming", "sync", 4000, null, silentSeconds is { } s ? TimeSpan.FromSeconds(s) : null);
        Assert.Equal(streaming, peer.IsStreaming);
    }

    [Fact]
    public void Degrade_keeps_waiting_for_a_briefly_absent_standby()
    {
        var verdict = SynchronousModeDecision.Decide(SynchronousMode.Degrade, Primary("A", 1, streamingStandby: false), Now.AddSeconds(-1), DegradeAfter, Now);
        Assert.Equal((null, false), (verdict.StandbyNames, verdict.Degraded));
    }

    [Fact]
    public void Degrade_goes_asynchronous_with_an_alarm_once_the_standby_is_gone_long_enough()
    {
        var verdict = SynchronousModeDecision.Decide(SynchronousMode.Degrade, Primary("A", 1, streamingStandby: false), Now.AddSeconds(-3), DegradeAfter, Now);
        Assert.Equal(("", true), (verdict.StandbyNames, verdict.Degraded));
        Assert.StartsWith("synchronous replication degraded: no standby has streamed from A for 3.0 s", verdict.Reason);
    }

    [Fact]
    public void Nothing_is_configured_without_a_reachable_primary() =>
        Assert.Null(SynchronousModeDecision.Decide(SynchronousMode.Strict, Down("A", TimeSpan.FromSeconds(1)), null, DegradeAfter, Now).StandbyNames);
}
