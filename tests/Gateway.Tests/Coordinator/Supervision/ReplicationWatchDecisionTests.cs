using Gateway.Coordinator.Supervision;
using Gateway.Filestore;
using Gateway.Model;
using static Gateway.Tests.Support.Observations;

namespace Gateway.Tests.Coordinator.Supervision;

public sealed class ReplicationWatchDecisionTests
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);
    private static readonly ReplicationDirection AToB = new("A", "/san-a", "B", "/san-b");

    private static ReplicationStatus Replicator(ReplicationState state = ReplicationState.Streaming, string? alarm = null) =>
        new(AToB, state, 0, 0, null, null, InitialSyncProgress.NotStarted, 0, 0, alarm, Now);

    private static readonly Gateway.Database.Observation.DatabaseSnapshot Following = Snapshot(Primary("A", 100), Standby("B", 100, 100));
    private static readonly Gateway.Database.Observation.DatabaseSnapshot NoStandby = Snapshot(Primary("A", 100, streamingStandby: false), Standby("B", 90, 90));

    private static ReplicationWatchVerdict Decide(ReplicationWatchState state, Gateway.Database.Observation.DatabaseSnapshot database, ReplicationStatus? filestore, DateTimeOffset now, string? primary = "A") =>
        ReplicationWatchDecision.Decide(state, database, primary, primary is null ? null : "B", filestore, now, Grace);

    private static AlarmVerdict Alarm(ReplicationWatchVerdict verdict, string key) => verdict.Alarms.Single(alarm => alarm.Key == key);

    [Fact]
    public void Both_replications_working_clear_every_alarm()
    {
        var verdict = Decide(ReplicationWatchState.Initial, Following, Replicator(), Now);

        Assert.All(verdict.Alarms, alarm => Assert.False(alarm.Raise, alarm.Key));
        Assert.Equal(ReplicationWatchState.Initial, verdict.Next);
        Assert.Equal("database: site B streams from site A; filestore: replicating A -> B", verdict.Reason);
    }

    [Fact]
    public void A_standby_gone_for_less_than_the_grace_period_raises_nothing_and_longer_raises_its_alarm()
    {
        var first = Decide(ReplicationWatchState.Initial, NoStandby, Replicator(), Now);
        var within = Decide(first.Next, NoStandby, Replicator(), Now + TimeSpan.FromSeconds(59));
        var after = Decide(within.Next, NoStandby, Replicator(), Now + TimeSpan.FromSeconds(60));

        Assert.False(Alarm(first, AlarmCatalogue.DatabaseNoStreamingStandby).Raise);
        Assert.False(Alarm(within, AlarmCatalogue.DatabaseNoStreamingStandby).Raise);
        Assert.Equal("database: site A has no streaming standby for 59 s, alarm after 60 s; filestore: replicating A -> B", within.Reason);
        Assert.Equal("site A has no streaming standby, for 60 s", Alarm(after, AlarmCatalogue.DatabaseNoStreamingStandby).Message);
        Assert.False(Alarm(after, AlarmCatalogue.FilestoreReplicationNotRunning).Raise);
    }

    [Fact]
    public void A_standby_that_streams_again_clears_the_alarm_and_restarts_the_grace_period()
    {
        var raised = Decide(new ReplicationWatchState(Now - TimeSpan.FromMinutes(5), null), NoStandby, Replicator(), Now);
        var back = Decide(raised.Next, Following, Replicator(), Now + TimeSpan.FromSeconds(1));
        var goneAgain = Decide(back.Next, NoStandby, Replicator(), Now + TimeSpan.FromSeconds(2));

        Assert.True(Alarm(raised, AlarmCatalogue.DatabaseNoStreamingStandby).Raise);
        Assert.False(Alarm(back, AlarmCatalogue.DatabaseNoStreamingStandby).Raise);
        Assert.Null(back.Next.NoStandbySince);
        Assert.False(Alarm(goneAgain, AlarmCatalogue.DatabaseNoStreamingStandby).Raise);
        Assert.Equal(Now + TimeSpan.FromSeconds(2), goneAgain.Next.NoStandbySince);
    }

    [Fact]
    public void No_designated_primary_for_longer_than_the_grace_period_is_no_streaming_standby()
    {
        var verdict = Decide(new ReplicationWatchState(Now - Grace, null), Following, Replicator(), Now, primary: null);

        Assert.Equal("no database primary is designated (a switch is under way), for 60 s", Alarm(verdict, AlarmCatalogue.DatabaseNoStreamingStandby).Message);
    }

    [Fact]
    public void A_standby_on_another_timeline_does_not_count_as_streaming()
    {
        var forked = Snapshot(Primary("A", 100), Standby("B", 100, 100) with { Timeline = 2 });

        var verdict = Decide(new ReplicationWatchState(Now - Grace, null), forked, Replicator(), Now);

        Assert.Equal("site B receives timeline 2 while site A writes timeline 1, for 60 s", Alarm(verdict, AlarmCatalogue.DatabaseNoStreamingStandby).Message);
    }

    [Fact]
    public void No_replicator_or_a_stopped_one_raises_not_running_after_the_grace_period()
    {
        var none = Decide(ReplicationWatchState.Initial, Following, null, Now);
        var stillNone = Decide(none.Next, Following, null, Now + Grace);
        var stopped = Decide(new ReplicationWatchState(null, Now - Grace), Following, Replicator(ReplicationState.Stopped), Now);

        Assert.False(Alarm(none, AlarmCatalogue.FilestoreReplicationNotRunning).Raise);
        Assert.Equal("no SAN replicator runs, for 60 s", Alarm(stillNone, AlarmCatalogue.FilestoreReplicationNotRunning).Message);
        Assert.Equal("the SAN replicator A -> B has stopped, for 60 s", Alarm(stopped, AlarmCatalogue.FilestoreReplicationNotRunning).Message);
        Assert.False(Alarm(stopped, AlarmCatalogue.FilestoreReplicationFailing).Raise);
    }

    [Fact]
    public void A_running_replicator_reporting_a_failure_raises_failing_at_once_with_its_words()
    {
        var verdict = Decide(ReplicationWatchState.Initial, Following, Replicator(ReplicationState.Degraded, "target: No space left on device"), Now);

        Assert.Equal("SAN replication A -> B fails and retries: target: No space left on device", Alarm(verdict, AlarmCatalogue.FilestoreReplicationFailing).Message);
        Assert.False(Alarm(verdict, AlarmCatalogue.FilestoreReplicationNotRunning).Raise);
        Assert.EndsWith("; SAN replication A -> B fails and retries: target: No space left on device", verdict.Reason);
    }
}
