namespace Gateway.Database.Observation;

/// <summary>
/// One standby as the primary sees it in pg_stat_replication. <see cref="SilentWhileBehind"/>: how long since its
/// last reply while the primary has flushed WAL it has not confirmed (null when it has confirmed everything).
/// </summary>
public sealed record ReplicationPeer(
    string ApplicationName,
    string? ClientAddress,
    string State,
    string SyncState,
    ulong? ReplayLsn,
    TimeSpan? ReplayLag,
    TimeSpan? SilentWhileBehind = null)
{
    /// <summary>
    /// A standby that receives WAL replies as soon as it has written or flushed it, so one that has said nothing for
    /// this long while WAL waits for it is not there. pg_stat_replication alone keeps saying "streaming" over a cut
    /// link until wal_sender_timeout (60 s by default), and in Degrade mode every commit waited that long.
    /// </summary>
    public static readonly TimeSpan UnresponsiveAfter = TimeSpan.FromSeconds(2);

    /// <summary>Streams and answers: what commits may wait for, and what a planned switchover needs.</summary>
    public bool IsStreaming => State == "streaming" && !(SilentWhileBehind >= UnresponsiveAfter);
}

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
