namespace Gateway.Database.Observation;

/// <summary>One standby as the primary sees it in pg_stat_replication.</summary>
public sealed record ReplicationPeer(
    string ApplicationName,
    string? ClientAddress,
    string State,
    string SyncState,
    ulong? ReplayLsn,
    TimeSpan? ReplayLag);

/// <summary>
/// What one probe of one node found. LSNs are byte positions in the WAL. <see cref="LastKnownFlushLsn"/> carries the
/// primary's last flushed position over probes that fail, because that is what bounds the loss of a failover, and
/// <see cref="LastSeenAt"/> when that position was read: what the node acknowledged after it is not known to anyone.
/// </summary>
public sealed record NodeObservation(
    string SiteId,
    bool Reachable,
    string? Error,
    DateTimeOffset ObservedAt,
    DateTimeOffset? UnreachableSince,
    bool InRecovery,
    int? Timeline,
    ulong? FlushLsn,
    ulong? ReceivedLsn,
    ulong? ReplayedLsn,
    bool ReplayPaused,
    bool DefaultReadOnly,
    string SynchronousStandbyNames,
    IReadOnlyList<ReplicationPeer> Peers,
    ulong? LastKnownFlushLsn,
    DateTimeOffset? LastSeenAt)
{
    public bool IsPrimary => Reachable && !InRecovery;

    public bool IsStandby => Reachable && InRecovery;

    public static NodeObservation Unreachable(string siteId, string error, DateTimeOffset now, NodeObservation? previous) => new(
        siteId,
        Reachable: false,
        error,
        now,
        previous is { Reachable: false, UnreachableSince: { } since } ? since : now,
        InRecovery: previous?.InRecovery ?? false,
        Timeline: previous?.Timeline,
        FlushLsn: null,
        ReceivedLsn: previous?.ReceivedLsn,
        ReplayedLsn: previous?.ReplayedLsn,
        ReplayPaused: false,
        DefaultReadOnly: false,
        SynchronousStandbyNames: "",
        Peers: [],
        LastKnownFlushLsn: previous?.FlushLsn ?? previous?.LastKnownFlushLsn,
        LastSeenAt: previous?.LastSeenAt);
}
