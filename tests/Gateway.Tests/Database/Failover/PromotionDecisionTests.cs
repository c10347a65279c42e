using Gateway.Database.Failover;
using static Gateway.Tests.Support.Observations;

namespace Gateway.Tests.Database.Failover;

public sealed class PromotionDecisionTests
{
    private const long OneMiB = 1024 * 1024;

    [Fact]
    public void A_standby_within_the_gate_may_be_promoted()
    {
        var verdict = PromotionDecision.Decide(Snapshot(Down("A", TimeSpan.FromSeconds(2), lastFlush: 5000), Standby("B", 4900, 4800)), "A", "B", OneMiB, force: false);
        Assert.True(verdict.Allowed);
        Assert.Equal("standby B is 200 bytes behind A, within maxLagOnFailover (1048576 bytes)", verdict.Reason);
        Assert.Equal(100, verdict.UnreceivedBytes);
    }

    [Fact]
    public void A_standby_beyond_the_gate_is_refused_unless_forced()
    {
        var snapshot = Snapshot(Down("A", TimeSpan.FromSeconds(2), lastFlush: 3 * OneMiB), Standby("B", 3 * OneMiB, OneMiB));

        var automatic = PromotionDecision.Decide(snapshot, "A", "B", OneMiB, force: false);
        var forced = PromotionDecision.Decide(snapshot, "A", "B", OneMiB, force: true);

        Assert.False(automatic.Allowed);
        Assert.Equal("standby B is 2097152 bytes behind A, above maxLagOnFailover (1048576 bytes): automatic promotion refused; forcing it may lose 0 bytes", automatic.Reason);
        Assert.True(forced.Allowed);
        Assert.Equal("forced although standby B is 2097152 bytes behind A", forced.Reason);
    }

    [Fact]
    public void An_unreachable_candidate_is_never_promoted_even_forced()
    {
        var verdict = PromotionDecision.Decide(Snapshot(Down("A", TimeSpan.FromSeconds(2), 10), Down("B", TimeSpan.FromSeconds(2), wasStandby: true)), "A", "B", OneMiB, force: true);
        Assert.False(verdict.Allowed);
        Assert.Equal("the node of site B is unreachable: nothing to promote", verdict.Reason);
    }

    [Fact]
    public void An_unknown_lag_refuses_automatic_promotion()
    {
        var verdict = PromotionDecision.Decide(Snapshot(Standby("B", 10, 10)), "A", "B", OneMiB, force: false);
        Assert.False(verdict.Allowed);
        Assert.Contains("is unknown", verdict.Reason);
    }

    [Fact]
    public void A_candidate_already_primary_passes_so_an_interrupted_switch_can_finish()
    {
        var verdict = PromotionDecision.Decide(Snapshot(Down("A", TimeSpan.FromSeconds(2), 10), Primary("B", 20)), "A", "B", OneMiB, force: false);
        Assert.True(verdict.Allowed);
        Assert.Equal("the node of site B is already primary", verdict.Reason);
    }
}
