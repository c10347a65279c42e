namespace Gateway.Database.Observation;

/// <summary>
/// Both nodes as last observed, immutable: the coordinator, the supervisor and the admin status all decide from
/// one snapshot, never from a mix of reads taken at different times.
/// </summary>
public sealed record DatabaseSnapshot(IReadOnlyDictionary<string, NodeObservation> Nodes, DateTimeOffset TakenAt)
{
    public static DatabaseSnapshot Empty { get; } = new(new Dictionary<string, NodeObservation>(), DateTimeOffset.MinValue);

    public NodeObservation? Node(string siteId) => Nodes.GetValueOrDefault(siteId);

    /// <summary>
    /// WAL bytes the standby has not replayed yet: the primary's flushed position (the last one known if it is
    /// unreachable) minus the standby's replayed position. Null when either position is unknown.
    /// </summary>
    public long? ReplayLagBytes(string primarySite, string standbySite)
    {
        var primaryLsn = Node(primarySite) is { } primary ? primary.FlushLsn ?? primary.LastKnownFlushLsn : null;
        var replayed = Node(standbySite)?.ReplayedLsn;
        return primaryLsn is { } p && replayed is { } r ? Math.Max(0, (long)(p - Math.Min(p, r))) : null;
    }

    /// <summary>WAL bytes the standby has not even received: what a promotion now would lose.</summary>
    public long? UnreceivedBytes(string primarySite, string standbySite)
    {
        var primaryLsn = Node(primarySite) is { } primary ? primary.FlushLsn ?? primary.LastKnownFlushLsn : null;
        var received = Node(standbySite) is { } standby ? standby.ReceivedLsn ?? standby.ReplayedLsn : null;
        return primaryLsn is { } p && received is { } r ? (long)(p - Math.Min(p, r)) : null;
    }

    /// <summary>
    /// Why the standby does not follow the primary now, or null when it does: the primary lists a streaming standby
    /// and the standby's WAL receiver is on the primary's timeline. The timeline matters: a node whose WAL went past
    /// the fork of a promotion connects, but can never replay the new timeline (pg_rewind calls that "no rewind
    /// required" while the new primary's pg_control still names the old timeline, see NodeSql.CheckpointAsync).
    /// </summary>
    public string? WhyNotFollowing(string primarySite, string standbySite) => (Node(primarySite), Node(standbySite)) switch
    {
        (not { IsPrimary: true }, _) => $"the node of site {primarySite} is not a reachable primary",
        (_, not { IsStandby: true }) => $"the node of site {standbySite} is not a reachable standby",
        ({ } primary, _) when !primary.Peers.Any(peer => peer.IsStreaming) => $"site {primarySite} has no streaming standby",
        (_, { Timeline: null }) => $"the WAL receiver of site {standbySite} is not connected",
        ({ } primary, { } standby) when primary.Timeline != standby.Timeline =>
            $"site {standbySite} receives timeline {standby.Timeline} while site {primarySite} writes timeline {primary.Timeline}",
        _ => null,
    };

    /// <summary>Replay lag in time, as the primary measures it for its streaming standby.</summary>
    public TimeSpan? ReplayLag(string primarySite) =>
        Node(primarySite)?.Peers.FirstOrDefault(peer => peer.IsStreaming)?.ReplayLag;
}
