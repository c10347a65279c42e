using Gateway.Database.Observation;

namespace Gateway.Database.Failover;

public enum CatchUpState
{
    /// <summary>The standby replayed the goal: promote.</summary>
    CaughtUp,

    /// <summary>Out of recovery already (an earlier, interrupted promotion got that far).</summary>
    AlreadyPrimary,

    /// <summary>
    /// Unplanned: the old primary is gone and neither the received nor the replayed position has moved for
    /// <see cref="CatchUpProgress.SettleTime"/>. What is left between them is the start of a WAL record whose end
    /// died with the old primary: replay can never apply it, so waiting longer only adds to the outage.
    /// </summary>
    ReplayedAllItCan,

    Waiting,

    TimedOut,
}

/// <summary>
/// Decides, one observation at a time, whether the standby has caught up before its promotion (docs/architecture.md, section 4: "wait
/// for B to replay what it has received"). Pure but for the positions it remembers between observations; the caller
/// observes, waits and acts.
/// </summary>
/// <remarks>
/// Without the settle rule an unplanned failover whose old primary died in the middle of sending a WAL record waited
/// the whole CatchUpTimeout (10 s) for bytes that could never be replayed: 3 of 20 failovers in the repeated-failover
/// run took 12-13 s instead of about 2 s ("still at 621018784 short of 621019136 after 10 s").
/// </remarks>
public sealed class CatchUpProgress(ulong? target, bool planned, DateTimeOffset startedAt, TimeSpan timeout)
{
    /// <summary>
    /// How long the positions must stand still before an unplanned catch-up counts as done. A standby that still has
    /// WAL to apply moves its replay position every few milliseconds; the observer probes every 50 ms here.
    /// </summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(1);

    private readonly DateTimeOffset _startedAt = startedAt;
    private (ulong? Received, ulong? Replayed) _positions;
    private DateTimeOffset _unchangedSince = startedAt;

    /// <summary>Everything the old primary flushed (planned: read after fencing) and everything the standby received.</summary>
    public ulong? Goal { get; private set; }

    public CatchUpState Observe(NodeObservation? node, DateTimeOffset now)
    {
        var positions = (node?.ReceivedLsn, node?.ReplayedLsn);
        if (positions != _positions)
        {
            _positions = positions;
            _unchangedSince = now;
        }

        Goal = target is null && node?.ReceivedLsn is null ? null : Math.Max(target ?? 0, node?.ReceivedLsn ?? 0);
        return (node, Goal) switch
        {
            ({ Reachable: true, ReplayedLsn: { } replayed }, { } goal) when replayed >= goal => CatchUpState.CaughtUp,
            ({ IsPrimary: true }, _) => CatchUpState.AlreadyPrimary,
            ({ IsStandby: true, ReplayedLsn: not null }, _) when !planned && now - _unchangedSince >= SettleTime => CatchUpState.ReplayedAllItCan,
            _ when now - _startedAt >= timeout => CatchUpState.TimedOut,
            _ => CatchUpState.Waiting,
        };
    }
}
