using Gateway.Coordinator.Supervision;
using Gateway.Coordinator.Switching;
using Gateway.Database.Failover;

namespace Gateway.Tests.Coordinator.Switching;

/// <summary>
/// Everything a switch needs, checked before its first step: the invariant that a switch never moves the database and
/// then refuses the files, as a decision table.
/// </summary>
public sealed class SwitchReadinessTests
{
    private static readonly PromotionVerdict GateOpen = new(true, "standby B is 0 bytes behind A", 0, 0);
    private static readonly SwitchDatabaseFacts Streaming = new(SourceIsReachablePrimary: true, WhyNotFollowing: null, TargetIsDesignatedPrimary: false, TargetFenced: false, GateOpen);
    private static readonly SwitchFilestoreFacts Replica = new(LinkSite: "A", ReplicatingFrom: "A", InitialSyncDone: true, PendingFiles: 3, PendingBytes: 300, SanState.Readable);

    private static ReadinessVerdict Decide(SwitchKind kind, SwitchDatabaseFacts? database = null, SwitchFilestoreFacts? files = null, bool force = false) =>
        SwitchReadiness.Decide(new SwitchFacts(kind, force, "A", "B", database ?? Streaming, files ?? Replica));

    [Fact]
    public void A_switchover_with_a_streaming_standby_and_a_replica_san_proceeds() =>
        Assert.Equal(ReadinessAction.Proceed, Decide(SwitchKind.Switchover).Action);

    [Fact]
    public void A_switchover_to_a_standby_that_does_not_stream_is_refused_with_what_to_do()
    {
        var verdict = Decide(SwitchKind.Switchover, Streaming with { WhyNotFollowing = "the node of site B is not a reachable standby" });
        Assert.Equal(ReadinessAction.Refuse, verdict.Action);
        Assert.Equal(
            "switchover to B refused before anything changed: the node of site B is not a reachable standby; a planned switchover needs a standby that streams from the primary: rejoin it first (POST /admin/database/rejoin {\"site\":\"B\"})",
            verdict.Reason);
    }

    [Fact]
    public void A_switchover_without_a_reachable_primary_points_at_failover()
    {
        var verdict = Decide(SwitchKind.Switchover, Streaming with { SourceIsReachablePrimary = false });
        Assert.Equal(ReadinessAction.Refuse, verdict.Action);
        Assert.Contains("fail over instead (POST /admin/failover {\"to\":\"B\"})", verdict.Reason);
    }

    /// <summary>The path that lost deposits: after a failover to B the way back starts with SAN A not a replica; the switch catches it up first.</summary>
    [Theory]
    [InlineData(null, true)]
    [InlineData("B", true)]
    [InlineData("A", false)]
    public void A_target_san_that_is_not_a_replica_yet_is_caught_up_before_anything_changes(string? replicatingFrom, bool initialSyncDone)
    {
        var verdict = Decide(SwitchKind.Switchover, files: Replica with { ReplicatingFrom = replicatingFrom, InitialSyncDone = initialSyncDone });
        Assert.Equal(ReadinessAction.CatchUpFilestore, verdict.Action);
        Assert.Contains("replicating SAN A -> B and waiting until it has caught up, before anything changes", verdict.Reason);
    }

    [Fact]
    public void A_failover_from_an_unreadable_san_with_files_not_replicated_is_refused_unless_forced()
    {
        var files = Replica with { SourceSan = SanState.Unreadable, PendingFiles = 7, PendingBytes = 700 };
        var refused = Decide(SwitchKind.Failover, Streaming with { SourceIsReachablePrimary = false }, files);
        Assert.Equal(ReadinessAction.Refuse, refused.Action);
        Assert.Contains("SAN A is unreadable and 7 file(s) (700 bytes) not on SAN B: they would be lost", refused.Reason);

        Assert.Equal(ReadinessAction.Proceed, Decide(SwitchKind.Failover, Streaming with { SourceIsReachablePrimary = false }, files, force: true).Action);
    }

    [Fact]
    public void A_failover_from_a_hung_san_with_nothing_pending_proceeds_and_says_it_could_not_compare()
    {
        var verdict = Decide(SwitchKind.Failover, files: Replica with { SourceSan = SanState.Unresponsive, PendingFiles = 0 });
        Assert.Equal(ReadinessAction.Proceed, verdict.Action);
        Assert.Contains("not answering (a hung mount?), but no change of it is known to be missing", verdict.Reason);
    }

    [Fact]
    public void Lost_change_events_make_an_empty_backlog_meaningless()
    {
        var verdict = Decide(SwitchKind.Failover, files: Replica with { SourceSan = SanState.Unreadable, PendingFiles = 0, ChangeFeedReliable = false });
        Assert.Equal(ReadinessAction.Refuse, verdict.Action);
        Assert.Contains("an unknown number of files (change events were lost; 0 known)", verdict.Reason);
    }

    [Fact]
    public void A_failover_to_a_fenced_node_that_never_rejoined_is_refused_unless_forced()
    {
        var fenced = Streaming with { SourceIsReachablePrimary = false, TargetFenced = true };
        var verdict = Decide(SwitchKind.Failover, fenced);
        Assert.Equal(ReadinessAction.Refuse, verdict.Action);
        Assert.Contains("has not rejoined as a standby since it was fenced", verdict.Reason);
        Assert.Equal(ReadinessAction.Proceed, Decide(SwitchKind.Failover, fenced, force: true).Action);
    }

    [Fact]
    public void The_database_gate_refuses_before_the_files_are_looked_at()
    {
        var verdict = Decide(SwitchKind.Failover, Streaming with { SourceIsReachablePrimary = false, Gate = new PromotionVerdict(false, "standby B is 9 bytes behind A, above maxLagOnFailover", 9, 9) });
        Assert.Equal(ReadinessAction.Refuse, verdict.Action);
        Assert.EndsWith("above maxLagOnFailover", verdict.Reason);
    }

    [Fact]
    public void Links_already_on_the_target_need_no_file_work_and_links_elsewhere_are_refused()
    {
        Assert.Equal(ReadinessAction.Proceed, Decide(SwitchKind.Failover, files: Replica with { LinkSite = "B", ReplicatingFrom = null }).Action);
        Assert.Equal(ReadinessAction.Refuse, Decide(SwitchKind.Failover, files: Replica with { LinkSite = null }).Action);
    }

    [Theory]
    [InlineData(true, true, 0, false, true, FlipBasis.VerifiedComplete)]
    [InlineData(false, true, 0, false, true, FlipBasis.VerifiedComplete)]
    [InlineData(false, false, 0, false, true, FlipBasis.NothingKnownMissing)]
    [InlineData(false, true, 4, false, false, FlipBasis.Forced)]
    [InlineData(false, false, 4, false, false, FlipBasis.Forced)]
    [InlineData(false, true, 4, true, true, FlipBasis.Forced)]
    public void After_the_final_sync_a_switch_that_is_not_forced_never_flips_onto_a_replica_that_lacks_a_file(
        bool complete, bool compared, int missing, bool force, bool flips, FlipBasis basis)
    {
        var verdict = FinalFileDecision.Decide(force, complete, compared, Enumerable.Range(0, missing).Select(i => $"f{i}").ToList(), "deadline passed");
        Assert.Equal((flips, basis), (verdict.Flip, verdict.Basis));
    }

    [Fact]
    public void A_probe_unanswered_past_its_timeout_outweighs_an_older_result()
    {
        var now = DateTimeOffset.UnixEpoch.AddHours(1);
        var timeout = TimeSpan.FromSeconds(2);
        Assert.Equal(SanState.Readable, SanProbeState.Of(new SanProbeReading(SanState.Readable, now.AddSeconds(-1), null), now, timeout));
        Assert.Equal(SanState.Unresponsive, SanProbeState.Of(new SanProbeReading(SanState.Readable, now.AddSeconds(-3), null), now, timeout));
        Assert.Equal(SanState.Unreadable, SanProbeState.Of(new SanProbeReading(SanState.Unreadable, null, "EACCES"), now, timeout));
        Assert.Equal(SanState.Unresponsive, SanProbeState.Of(new SanProbeReading(null, null, null), now, timeout));
    }
}
