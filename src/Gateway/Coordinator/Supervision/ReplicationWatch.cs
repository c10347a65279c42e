using Gateway.Database;
using Gateway.Database.Observation;
using Gateway.Filestore;
using Gateway.Model;

namespace Gateway.Coordinator.Supervision;

/// <summary>Since when each replication has been found not working; null while it works.</summary>
public sealed record ReplicationWatchState(DateTimeOffset? NoStandbySince, DateTimeOffset? NoReplicatorSince)
{
    public static ReplicationWatchState Initial { get; } = new(null, null);
}

/// <summary>What to do with one alarm: raise it with <see cref="Message"/>, or clear it when that is null.</summary>
public sealed record AlarmVerdict(string Key, string? Message)
{
    public bool Raise => Message is not null;
}

public sealed record ReplicationWatchVerdict(ReplicationWatchState Next, IReadOnlyList<AlarmVerdict> Alarms, string Reason);

/// <summary>
/// Whether both replications that a failover relies on are working: the database's streaming standby and the SAN
/// replicator, as a pure function of what was observed, the time and a grace period. A replication down for less
/// than the grace period (a switchover, a rejoin, a replicator restarting the other way) raises nothing; longer
/// raises <see cref="AlarmCatalogue.DatabaseNoStreamingStandby"/> or <see cref="AlarmCatalogue.FilestoreReplicationNotRunning"/>.
/// A running replicator that reports a failure raises <see cref="AlarmCatalogue.FilestoreReplicationFailing"/> at once:
/// it has already retried, and says what fails.
/// </summary>
public static class ReplicationWatchDecision
{
    public static ReplicationWatchVerdict Decide(
        ReplicationWatchState previous,
        DatabaseSnapshot database,
        string? primarySite,
        string? standbySite,
        ReplicationStatus? filestore,
        DateTimeOffset now,
        TimeSpan grace)
    {
        var whyNoStandby = primarySite is null || standbySite is null
            ? "no database primary is designated (a switch is under way)"
            : database.WhyNotFollowing(primarySite, standbySite);
        var whyNoReplicator = filestore switch
        {
            null => "no SAN replicator runs",
            { State: ReplicationState.Stopped } => $"the SAN replicator {filestore.Direction.SourceSite} -> {filestore.Direction.TargetSite} has stopped",
            _ => null,
        };

        var next = new ReplicationWatchState(
            whyNoStandby is null ? null : previous.NoStandbySince ?? now,
            whyNoReplicator is null ? null : previous.NoReplicatorSince ?? now);
        var standby = Judge(AlarmCatalogue.DatabaseNoStreamingStandby, "database", whyNoStandby, next.NoStandbySince, now, grace,
            $"site {standbySite} streams from site {primarySite}");
        var replicator = Judge(AlarmCatalogue.FilestoreReplicationNotRunning, "filestore", whyNoReplicator, next.NoReplicatorSince, now, grace,
            whyNoReplicator is null ? $"replicating {filestore!.Direction.SourceSite} -> {filestore.Direction.TargetSite}" : "");
        var failing = whyNoReplicator is null && filestore!.Alarm is { } failure
            ? new AlarmVerdict(AlarmCatalogue.FilestoreReplicationFailing, $"SAN replication {filestore.Direction.SourceSite} -> {filestore.Direction.TargetSite} fails and retries: {failure}")
            : new AlarmVerdict(AlarmCatalogue.FilestoreReplicationFailing, null);

        var sentence = $"{standby.Reason}; {replicator.Reason}" + (failing.Raise ? $"; {failing.Message}" : "");
        return new(next, [standby.Verdict, replicator.Verdict, failing], sentence);
    }

    private static (AlarmVerdict Verdict, string Reason) Judge(
        string key, string what, string? whyNot, DateTimeOffset? since, DateTimeOffset now, TimeSpan grace, string working)
    {
        if (whyNot is null)
        {
            return (new(key, null), $"{what}: {working}");
        }

        var down = now - since!.Value;
        return down >= grace
            ? (new(key, $"{whyNot}, for {Seconds(down)}"), $"{what}: {whyNot} for {Seconds(down)}, alarm {key}")
            : (new(key, null), $"{what}: {whyNot} for {Seconds(down)}, alarm after {Seconds(grace)}");
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0} s";
}

/// <summary>
/// Applies <see cref="ReplicationWatchDecision"/> every second to the observer's last database snapshot and the
/// running replicator's status, raising and clearing its alarms. Logs the sentence when the verdict changes.
/// </summary>
public sealed partial class ReplicationWatch(
    DatabaseObserver observer,
    DatabaseRoutingTable routing,
    SiteTopology topology,
    FilestoreReplication replication,
    Alarms alarms,
    TimeProvider time,
    ILogger<ReplicationWatch> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Long enough for a switchover, a rejoin's catch-up or a replicator's restart the other way; short enough to matter.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);

    private ReplicationWatchState _state = ReplicationWatchState.Initial;
    private IReadOnlyList<AlarmVerdict>? _lastAlarms;

    /// <summary>One cycle: decide, raise or clear, and return the sentence.</summary>
    public string Check()
    {
        var primary = routing.Current.Primary;
        var standby = primary is null ? null : topology.PeerOf(primary).Id;
        var verdict = ReplicationWatchDecision.Decide(_state, observer.Current, primary, standby, replication.Status, time.GetUtcNow(), Grace);
        _state = verdict.Next;
        foreach (var alarm in verdict.Alarms)
        {
            if (alarm.Raise)
            {
                alarms.Raise(alarm.Key, alarm.Message!);
            }
            else
            {
                alarms.Clear(alarm.Key);
            }
        }

        // The same alarms raised as in the last cycle: nothing new to log (the durations in the sentence move every second).
        if (_lastAlarms is null || !_lastAlarms.Select(a => a.Raise).SequenceEqual(verdict.Alarms.Select(a => a.Raise)))
        {
            Log.Verdict(logger, verdict.Reason);
        }

        _lastAlarms = verdict.Alarms;
        return verdict.Reason;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                Check();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.CycleFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Replication watch: {Sentence}")]
        public static partial void Verdict(ILogger logger, string sentence);

        [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Replication watch cycle failed; trying again at the next one")]
        public static partial void CycleFailed(ILogger logger, Exception exception);
    }
}
