using Gateway.Configuration;
using Gateway.Coordinator.Supervision;

namespace Gateway.Tests.Coordinator.Supervision;

/// <summary>The coordinator's decision table: every branch, with the sentence it logs.</summary>
public sealed class CoordinatorDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly CoordinatorOptions _policy = new() { FailoverAfter = TimeSpan.FromSeconds(3), RecoverAfter = TimeSpan.FromSeconds(10) };

    private static SiteHealth Healthy(string site, double forSeconds) => new(site, true, Now.AddSeconds(-forSeconds), []);

    private static SiteHealth Down(string site, double forSeconds, params string[] problems) => new(site, false, Now.AddSeconds(-forSeconds), problems);

    private CoordinatorVerdict Decide(SiteHealth a, SiteHealth b, string? databasePrimary = "A", bool switching = false) =>
        CoordinatorDecision.Decide(new CoordinatorSnapshot("A", switching, databasePrimary, new Dictionary<string, SiteHealth> { ["A"] = a, ["B"] = b }), _policy, Now);

    [Fact]
    public void A_healthy_active_site_is_left_alone() =>
        Assert.Equal(new CoordinatorVerdict(CoordinatorAction.None, null, "site A is healthy"), Decide(Healthy("A", 60), Healthy("B", 60)));

    [Fact]
    public void An_active_site_down_for_less_than_failover_after_is_waited_for() =>
        Assert.Equal(
            new CoordinatorVerdict(CoordinatorAction.Wait, "B", "site A unhealthy for 1.5 s (0 healthy instance(s), 1 needed); failing over after 3.0 s"),
            Decide(Down("A", 1.5, "0 healthy instance(s), 1 needed"), Healthy("B", 60)));

    [Fact]
    public void An_active_site_down_long_enough_with_a_trusted_peer_is_failed_over() =>
        Assert.Equal(
            new CoordinatorVerdict(CoordinatorAction.FailOver, "B", "site A unhealthy for 3.5 s (database unreachable, SAN unreadable); site B healthy: failing over to B"),
            Decide(Down("A", 3.5, "database unreachable", "SAN unreadable"), Healthy("B", 60)));

    [Fact]
    public void A_peer_healthy_for_less_than_recover_after_is_not_trusted_yet()
    {
        var verdict = Decide(Down("A", 5, "database unreachable"), Healthy("B", 4));
        Assert.Equal(CoordinatorAction.Refuse, verdict.Action);
        Assert.EndsWith("but site B is healthy for only 4.0 s of the 10.0 s required: no automatic failover", verdict.Reason);
    }

    [Fact]
    public void Both_sites_down_is_a_double_failure_and_never_failed_over_automatically()
    {
        var verdict = Decide(Down("A", 5, "database unreachable"), Down("B", 5, "SAN unreadable"));
        Assert.Equal(CoordinatorAction.Refuse, verdict.Action);
        Assert.Contains("but site B is unhealthy (SAN unreadable)", verdict.Reason);
    }

    [Fact]
    public void With_automatic_failover_off_a_down_site_raises_a_refusal_for_the_operator()
    {
        _policy.AutoFailover = false;
        var verdict = Decide(Down("A", 5, "database unreachable"), Healthy("B", 60));
        Assert.Equal((CoordinatorAction.Refuse, "site A unhealthy for 5.0 s (database unreachable); automatic failover is off: an operator must fail over"), (verdict.Action, verdict.Reason));
    }

    [Fact]
    public void After_an_automatic_database_failover_the_site_follows_the_database()
    {
        var verdict = Decide(Down("A", 1, "database unreachable"), Healthy("B", 60), databasePrimary: "B");
        Assert.Equal((CoordinatorAction.FollowDatabase, "B"), (verdict.Action, verdict.Target));
    }

    [Fact]
    public void Nothing_is_decided_while_a_switch_runs() =>
        Assert.Equal(CoordinatorAction.None, Decide(Down("A", 60, "database unreachable"), Healthy("B", 60), switching: true).Action);

    [Fact]
    public void Health_keeps_its_clock_until_it_flips_so_flapping_never_accumulates()
    {
        var up = new SiteObservation("A", 2, true, true);
        var down = new SiteObservation("A", 0, true, true);

        var first = SiteHealth.Next(null, down, 1, Now);
        var still = SiteHealth.Next(first, down, 1, Now.AddSeconds(2));
        var flipped = SiteHealth.Next(still, up, 1, Now.AddSeconds(2.5));
        var downAgain = SiteHealth.Next(flipped, down, 1, Now.AddSeconds(3));

        Assert.Equal(Now, still.Since);
        Assert.Equal(Now.AddSeconds(2.5), flipped.Since);
        Assert.Equal(TimeSpan.Zero, downAgain.For(Now.AddSeconds(3)));
        Assert.Equal(["0 healthy instance(s), 1 needed"], downAgain.Problems);
    }
}
