using Gateway.Cluster;

namespace Gateway.Tests.Cluster;

public sealed class LeadershipDecisionTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly SessionState Session = new(0x42, TimeSpan.FromSeconds(3), T0);

    private static LeadershipVerdict Decide(double secondsAfterRenewal, LeaderKeyState? leader, bool wasLeading = false, SessionState? session = null) =>
        LeadershipDecision.Decide(new("gw-a", T0.AddSeconds(secondsAfterRenewal), session ?? Session, leader, wasLeading));

    [Fact]
    public void The_fence_falls_a_sixth_of_the_granted_ttl_before_the_earliest_expiry_etcd_can_have()
    {
        Assert.Equal(T0.AddSeconds(2.5), LeadershipDecision.FenceAt(Session));
        // The TTL as granted counts, not the one asked for: etcd may grant more.
        Assert.Equal(T0.AddSeconds(5), LeadershipDecision.FenceAt(Session with { GrantedTtl = TimeSpan.FromSeconds(6) }));
    }

    [Fact]
    public void A_gateway_holding_the_key_under_its_own_lease_leads_until_the_fence_and_then_fences_writes()
    {
        var mine = new LeaderKeyState("gw-a", 0x42, 17);
        var leading = Decide(2.4, mine, wasLeading: true);
        Assert.Equal(LeadershipRole.Lead, leading.Role);
        Assert.True(leading.WritesAllowed);
        Assert.Contains("revision 17", leading.Sentence, StringComparison.Ordinal);

        // At the fence it stops, whatever it believes about the key: etcd may let the lease go 0.5 s later.
        var fenced = Decide(2.5, mine, wasLeading: true);
        Assert.Equal(LeadershipRole.FenceWrites, fenced.Role);
        Assert.False(fenced.WritesAllowed);
        Assert.Contains("writes stopped at 12:00:02.500", fenced.Sentence, StringComparison.Ordinal);
        Assert.Contains("may expire in etcd from 12:00:03.000", fenced.Sentence, StringComparison.Ordinal);
        Assert.Contains("running step is abandoned", fenced.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_session_every_gateway_fences_writes()
    {
        var verdict = LeadershipDecision.Decide(new("gw-a", T0, null, new LeaderKeyState("gw-b", 7, 3), false));
        Assert.Equal(LeadershipRole.FenceWrites, verdict.Role);
        Assert.Contains("no etcd session", verdict.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void A_free_leader_key_is_campaigned_for_and_another_holder_is_followed()
    {
        Assert.Equal(LeadershipRole.Campaign, Decide(1, null).Role);
        var follow = Decide(1, new LeaderKeyState("gw-b", 0x99, 5));
        Assert.Equal(LeadershipRole.Follow, follow.Role);
        Assert.True(follow.WritesAllowed);
        Assert.Contains("following gateway gw-b", follow.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void A_leader_that_sees_the_key_gone_or_held_by_another_steps_down_before_anything_else()
    {
        Assert.Equal(LeadershipRole.StepDown, Decide(1, null, wasLeading: true).Role);
        var taken = Decide(1, new LeaderKeyState("gw-b", 0x99, 5), wasLeading: true);
        Assert.Equal(LeadershipRole.StepDown, taken.Role);
        Assert.True(taken.WritesAllowed);
        Assert.Contains("gw-b leads now", taken.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void The_key_left_by_this_gateways_earlier_session_is_taken_over_not_treated_as_leading()
    {
        var earlier = new LeaderKeyState("gw-a", 0x41, 9);
        Assert.Equal(LeadershipRole.Campaign, Decide(1, earlier).Role);
        Assert.Equal(LeadershipRole.StepDown, Decide(1, earlier, wasLeading: true).Role);
    }

    [Fact]
    public void Only_a_valid_session_with_its_own_key_leads_over_a_grid_of_times_and_holders()
    {
        LeaderKeyState?[] holders = [null, new("gw-a", 0x42, 1), new("gw-a", 0x41, 1), new("gw-b", 0x42, 1), new("gw-b", 0x77, 1)];
        foreach (var seconds in new[] { 0.0, 1, 2, 2.49, 2.5, 3, 10 })
        {
            foreach (var holder in holders)
            {
                foreach (var wasLeading in new[] { false, true })
                {
                    var verdict = Decide(seconds, holder, wasLeading);
                    var valid = seconds < 2.5;
                    Assert.Equal(!valid, verdict.Role == LeadershipRole.FenceWrites);
                    Assert.Equal(valid && holder is { Owner: "gw-a", Lease: 0x42 }, verdict.Role == LeadershipRole.Lead);
                    // Losing the lead is always said, so that the running step is abandoned.
                    if (wasLeading && verdict.Role != LeadershipRole.Lead)
                    {
                        Assert.Contains("abandoned", verdict.Sentence, StringComparison.Ordinal);
                    }
                }
            }
        }
    }
}
