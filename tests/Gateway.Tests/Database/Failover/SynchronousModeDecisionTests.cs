using Gateway.Configuration;
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
