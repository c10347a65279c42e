using Gateway.Configuration;
using Gateway.Coordinator.Supervision;
using Gateway.Coordinator.Switching;
using Gateway.Database;
using Gateway.Database.Observation;

namespace Gateway.Tests.Coordinator.Supervision;

/// <summary>The coordinator's decision table, the one place that chooses automatic moves: every branch, with the sentence it logs.</summary>
public sealed class CoordinatorDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private FailoverPolicy _policy = new(
        AutoFailover: true, FailoverAfter: TimeSpan.FromSeconds(3), RecoverAfter: TimeSpan.FromSeconds(10), AutoPromotion: true,
        DatabaseFailoverAfter: TimeSpan.FromSeconds(1), MaxLagOnFailover: 1024 * 1024, MaxBacklogFiles: 0, MaxBacklogBytes: 0, RejoinAfterFailover.Manual);

    private static SiteHealth Healthy(string site, double forSeconds) => new(site, true, Now.AddSeconds(-forSeconds), []);

    private static SiteHealth Down(string site, double forSeconds, params string[] problems) =>
        new(site, false, Now.AddSeconds(-forSeconds), problems, !problems.Any(p => p.Contains("database") || p.Contains("SAN")), Now.AddSeconds(-forSeconds));

    private static NodeObservation Primary(string site, ulong flush = 1000) =>
        new(site, true, null, Now, null, false, 2, flush, null, null, false, false, "",
            [new ReplicationPeer("standby", "127.0.0.1", "streaming", "async", flush, TimeSpan.FromMilliseconds(5))], flush, Now);

    private static NodeObservation Standby(string site, ulong replayed = 1000) =>
        new(site, true, null, Now, null, true, 2, null, replayed, replayed, false, false, "", [], null, Now);

    private static NodeObservation Lost(string site, double forSeconds, ulong lastFlush = 1000) =>
        new(site, false, "connection refused", Now, Now.AddSeconds(-forSeconds), false, 2, null, null, null, false, false, "", [], lastFlush, Now.AddSeconds(-forSeconds));

    private static DatabaseSnapshot Nodes(params NodeObservation[] nodes) => new(nodes.ToDictionary(node => node.SiteId), Now);

    private static readonly FilestoreFacts Replicating = new("A", InitialSyncDone: true, PendingFiles: 0, PendingBytes: 0, ChangeEventsComplete: true);

    private CoordinatorVerdict Decide(
        SiteHealth a, SiteHealth b, DatabaseSnapshot? database = null, string? primary = "A", bool switching = false, FilestoreFacts? files = null,
        PauseStatus? pause = null, IReadOnlySet<string>? fenced = null, string? awaitingRejoin = null, bool rejoinPlanned = false) =>
        CoordinatorDecision.Decide(
            new CoordinatorSnapshot("A", switching, primary, fenced ?? new HashSet<string>(), database ?? Nodes(Lost("A", 5), Standby("B")),
                new Dictionary<string, SiteHealth> { ["A"] = a, ["B"] = b }, files ?? Replicating, pause, awaitingRejoin, rejoinPlanned),
            _policy, Now);

    [Fact]
    public void A_healthy_active_site_is_left_alone() =>
        Assert.Equal(new CoordinatorVerdict(CoordinatorAction.None, null, "site A is healthy"), Decide(Healthy("A", 60), Healthy("B", 60), Nodes(Primary("A"), Standby("B"))));

    [Fact]
    public void An_active_site_down_for_less_than_failover_after_is_waited_for() =>
        Assert.Equal(
            new CoordinatorVerdict(CoordinatorAction.Wait, "B", "site A unhealthy for 1.5 s (0 healthy instance(s), 1 needed); failing over after 3.0 s"),
            Decide(Down("A", 1.5, "0 healthy instance(s), 1 needed"), Healthy("B", 60)));

    [Fact]
    public void A_lost_database_is_failed_over_after_the_database_delay_not_the_site_one()
    {
        var verdict = Decide(Down("A", 1.2, SiteObservation.DatabaseUnreachable), Healthy("B", 60));
        Assert.Equal((CoordinatorAction.FailOver, "B"), (verdict.Action, verdict.Target));
    }

    [Fact]
    public void An_active_site_down_long_enough_with_a_trusted_peer_and_both_gates_passing_is_failed_over() =>
        Assert.Equal(
            new CoordinatorVerdict(CoordinatorAction.FailOver, "B",
                "site A unhealthy for 3.5 s (database unreachable, SAN unreadable); site B healthy; standby B is 0 bytes behind A, within maxLagOnFailover (1048576 bytes); " +
                "0 file(s), 0 bytes not yet on SAN B, within MaxBacklogOnFailover: failing over to B"),
            Decide(Down("A", 3.5, SiteObservation.DatabaseUnreachable, "SAN unreadable"), Healthy("B", 60)));

    [Fact]
    public void A_peer_healthy_for_less_than_recover_after_is_not_trusted_yet()
    {
        var verdict = Decide(Down("A", 5, SiteObservation.DatabaseUnreachable), Healthy("B", 4));
        Assert.Equal(CoordinatorAction.Refuse, verdict.Action);
        Assert.EndsWith("but site B is healthy (database node and SAN) for only 4.0 s of the 10.0 s required: no automatic failover", verdict.Reason);

        var instances = Decide(Down("A", 5, "0 healthy instance(s), 1 needed"), Healthy("B", 4));
        Assert.EndsWith("but site B is healthy for only 4.0 s of the 10.0 s required: no automatic failover", instances.Reason);
    }

    [Fact]
    public void Both_sites_down_is_a_double_failure_and_never_failed_over_automatically()
    {
        var verdict = Decide(Down("A", 5, SiteObservation.DatabaseUnreachable), Down("B", 5, "SAN unreadable"));
        Assert.Equal(CoordinatorAction.Refuse, verdict.Action);
        Assert.Contains("but site B is unhealthy (SAN unreadable)", verdict.Reason);
    }

    [Fact]
    public void A_lost_primary_fails_the_other_sites_instances_too_which_does_not_stop_the_failover_its_node_and_san_decide()
    {
        // B's instances answer 503 to their health checks because they cannot write to the lost primary either.
        var peer = new SiteHealth("B", false, Now.AddSeconds(-2), ["0 healthy instance(s), 1 needed"], InfrastructureHealthy: true, InfrastructureSince: Now.AddSeconds(-60));
        var verdict = Decide(Down("A", 2, "0 healthy instance(s), 1 needed", SiteObservation.DatabaseUnreachable), peer);
        Assert.Equal((CoordinatorAction.FailOver, "B"), (verdict.Action, verdict.Target));

        var peerWithoutNode = peer with { InfrastructureHealthy = false, Problems = ["0 healthy instance(s), 1 needed", SiteObservation.DatabaseUnreachable] };
        var refused = Decide(Down("A", 2, SiteObservation.DatabaseUnreachable), peerWithoutNode);
        Assert.Equal(CoordinatorAction.Refuse, refused.Action);
        Assert.Contains("but site B is unhealthy (database unreachable)", refused.Reason);

        // A site lost for another reason (its instances) needs the other site healthy as a whole.
        Assert.Equal(CoordinatorAction.Refuse, Decide(Down("A", 5, "0 healthy instance(s), 1 needed"), peer).Action);
    }

    [Fact]
    public void With_automatic_failover_off_a_down_site_raises_a_refusal_for_the_operator()
    {
        _policy = _policy with { AutoFailover = false };
        var verdict = Decide(Down("A", 5, SiteObservation.DatabaseUnreachable), Healthy("B", 60));
        Assert.Equal((CoordinatorAction.Refuse, "site A unhealthy for 5.0 s (database unreachable); automatic failover is off: an operator must fail over"), (verdict.Action, verdict.Reason));
    }

    [Fact]
    public void The_file_gate_refuses_a_failover_that_would_leave_deposits_behind_and_names_the_backlog()
    {
        var verdict = Decide(Down("A", 5, SiteObservation.DatabaseUnreachable), Healthy("B", 60), files: Replicating with { PendingFiles = 42, PendingBytes = 4200 });
        Assert.Equal(CoordinatorAction.Refuse, verdict.Action);
        Assert.Contains("42 file(s), 4200 bytes not yet on SAN B, above MaxBacklogOnFailover (0 files, 0 bytes)", verdict.Reason);

        _policy = _policy with { MaxBacklogFiles = 50, MaxBacklogBytes = 1_000_000 };
        Assert.Equal(CoordinatorAction.FailOver, Decide(Down("A", 5, SiteObservation.DatabaseUnreachable), Healthy("B", 60), files: Replicating with { PendingFiles = 42, PendingBytes = 4200 }).Action);
    }

    [Theory]
    [InlineData(null, true, true, "is not a replica of SAN A (no replication A -> B runs)")]
    [InlineData("A", false, true, "SAN B's initial sync from SAN A has not finished")]
    [InlineData("B", true, true, "is not a replica of SAN A")]
    [InlineData("A", true, false, "change events of SAN A were lost")]
    public void A_target_san_that_is_not_known_complete_refuses_the_automatic_failover(string? replicatingFrom, bool initialSyncDone, bool eventsComplete, string reason)
    {
        var verdict = Decide(Down("A", 5, SiteObservation.DatabaseUnreachable), Healthy("B", 60), files: new FilestoreFacts(replicatingFrom, initialSyncDone, 0, 0, eventsComplete));
        Assert.Equal(CoordinatorAction.Refuse, verdict.Action);
        Assert.Contains(reason, verdict.Reason);
    }

    [Fact]
    public void The_database_gate_refuses_a_standby_too_far_behind()
    {
        var verdict = Decide(Down("A", 5, SiteObservation.DatabaseUnreachable), Healthy("B", 60), Nodes(Lost("A", 5, lastFlush: 10_000_000), Standby("B", replayed: 1000)));
        Assert.Equal(CoordinatorAction.Refuse, verdict.Action);
        Assert.Contains("above maxLagOnFailover", verdict.Reason);
    }

    [Fact]
    public void A_fenced_target_that_has_not_rejoined_is_never_promoted_automatically()
    {
        var verdict = Decide(Down("A", 5, SiteObservation.DatabaseUnreachable), Healthy("B", 60), fenced: new HashSet<string> { "B" });
        Assert.Equal(CoordinatorAction.Refuse, verdict.Action);
        Assert.Contains("the database of site B is fenced", verdict.Reason);
    }

    [Fact]
    public void A_pause_turns_the_failover_into_a_recorded_refusal_and_says_what_it_would_have_done()
    {
        var pause = new PauseStatus("patching site A", "10.0.0.9", Now.AddMinutes(-10), Now.AddMinutes(50));
        var verdict = Decide(Down("A", 5, SiteObservation.DatabaseUnreachable), Healthy("B", 60), pause: pause);
        Assert.Equal((CoordinatorAction.Paused, "B"), (verdict.Action, verdict.Target));
        Assert.StartsWith("automatic failover is paused (patching site A, by 10.0.0.9, until 2026-11-22 12:50:00Z); it would have done: site A unhealthy", verdict.Reason);

        var overdue = Decide(Down("A", 5, SiteObservation.DatabaseUnreachable), Healthy("B", 60), pause: pause with { Until = Now.AddSeconds(-1) });
        Assert.Contains("OVERDUE", overdue.Reason);
    }

    [Fact]
    public void After_an_operators_database_promotion_the_site_follows_only_once_it_is_trusted()
    {
        var database = Nodes(Standby("A"), Primary("B"));
        var follow = Decide(Healthy("A", 60), Healthy("B", 60), database, primary: "B");
        Assert.Equal((CoordinatorAction.FollowDatabase, "B"), (follow.Action, follow.Target));

        var early = Decide(Healthy("A", 60), Healthy("B", 2), database, primary: "B");
        Assert.Equal(CoordinatorAction.Refuse, early.Action);
        Assert.Contains("but site B is healthy for only 2.0 s of the 10.0 s required: the site does not follow yet", early.Reason);
    }

    [Fact]
    public void A_lost_primary_on_the_site_that_is_not_active_is_promoted_back_on_the_active_site()
    {
        var verdict = Decide(Healthy("A", 60), Healthy("B", 60), Nodes(Standby("A"), Lost("B", 2)), primary: "B");
        Assert.Equal((CoordinatorAction.PromoteDatabase, "A"), (verdict.Action, verdict.Target));

        var soon = Decide(Healthy("A", 60), Healthy("B", 60), Nodes(Standby("A"), Lost("B", 0.5)), primary: "B");
        Assert.Equal(CoordinatorAction.Wait, soon.Action);
    }

    [Fact]
    public void The_old_primary_is_rejoined_by_itself_only_when_configured_and_reachable()
    {
        var database = Nodes(Primary("A"), Standby("B"));
        Assert.Equal(CoordinatorAction.None, Decide(Healthy("A", 60), Healthy("B", 60), database, awaitingRejoin: "B").Action);

        _policy = _policy with { RejoinAfterFailover = RejoinAfterFailover.Auto };
        Assert.Equal((CoordinatorAction.Rejoin, "B"), Decide(Healthy("A", 60), Healthy("B", 60), database, awaitingRejoin: "B") is var v ? (v.Action, v.Target) : default);
        Assert.Equal(CoordinatorAction.None, Decide(Healthy("A", 60), Healthy("B", 60), Nodes(Primary("A"), Lost("B", 30)), awaitingRejoin: "B").Action);
    }

    [Fact]
    public void The_cleanly_stopped_old_primary_of_a_planned_switchover_is_rejoined_whatever_the_setting_while_its_site_is_otherwise_fine()
    {
        // The gateway running a switchover was lost before its rejoin step; another leads now, with Manual configured.
        var stopped = Nodes(Primary("A"), Lost("B", 30));
        var verdict = Decide(Healthy("A", 60), Down("B", 30, SiteObservation.DatabaseUnreachable), stopped, awaitingRejoin: "B", rejoinPlanned: true);
        Assert.Equal((CoordinatorAction.Rejoin, "B"), (verdict.Action, verdict.Target));
        Assert.Contains("stopped cleanly by a planned switchover", verdict.Reason);

        // The same old primary after an unplanned failover waits for an operator; and a planned one whose SAN is gone too.
        Assert.Equal(CoordinatorAction.None, Decide(Healthy("A", 60), Down("B", 30, SiteObservation.DatabaseUnreachable), stopped, awaitingRejoin: "B").Action);
        Assert.Equal(CoordinatorAction.None, Decide(Healthy("A", 60), Down("B", 30, SiteObservation.DatabaseUnreachable, "SAN unreadable"), stopped, awaitingRejoin: "B", rejoinPlanned: true).Action);
    }

    [Fact]
    public void A_site_not_yet_seen_healthy_since_the_start_is_starting_up_not_failed_until_the_grace_ends()
    {
        _policy = _policy with { StartupGrace = TimeSpan.FromSeconds(60) };
        var starting = Down("A", 20, "0 healthy instance(s), 1 needed") with { EverHealthy = false };
        var verdict = Decide(starting, Healthy("B", 60));
        Assert.Equal(CoordinatorAction.Wait, verdict.Action);
        Assert.Contains("not yet seen healthy since the gateway started: waiting up to 60.0 s", verdict.Reason);

        Assert.Equal(CoordinatorAction.FailOver, Decide(starting with { Since = Now.AddSeconds(-61), InfrastructureSince = Now.AddSeconds(-61) }, Healthy("B", 60)).Action);
        Assert.False(SiteHealth.Next(null, new SiteObservation("A", 0, true, SanState.Readable), 1, Now).EverHealthy);
        Assert.True(SiteHealth.Next(null, new SiteObservation("A", 1, true, SanState.Readable), 1, Now).EverHealthy);
    }

    [Fact]
    public void Nothing_is_decided_while_a_switch_runs() =>
        Assert.Equal(CoordinatorAction.None, Decide(Down("A", 60, SiteObservation.DatabaseUnreachable), Healthy("B", 60), switching: true).Action);

    [Fact]
    public void Health_keeps_its_clock_until_it_flips_so_flapping_never_accumulates()
    {
        var up = new SiteObservation("A", 2, true, SanState.Readable);
        var down = new SiteObservation("A", 0, true, SanState.Readable);

        var first = SiteHealth.Next(null, down, 1, Now);
        var still = SiteHealth.Next(first, down, 1, Now.AddSeconds(2));
        var flipped = SiteHealth.Next(still, up, 1, Now.AddSeconds(2.5));
        var downAgain = SiteHealth.Next(flipped, down, 1, Now.AddSeconds(3));

        Assert.Equal(Now, still.Since);
        Assert.Equal(Now.AddSeconds(2.5), flipped.Since);
        Assert.Equal(TimeSpan.Zero, downAgain.For(Now.AddSeconds(3)));
        Assert.Equal(["0 healthy instance(s), 1 needed"], downAgain.Problems);
    }

    [Fact]
    public void A_san_that_does_not_answer_makes_its_site_unhealthy_with_a_problem_that_says_so() =>
        Assert.Equal(["SAN not answering (hung mount?)"], new SiteObservation("A", 2, true, SanState.Unresponsive).Problems(1));
}
