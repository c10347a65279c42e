using Gateway.Database.Observation;
using Gateway.Observability;

namespace Gateway.Database;

/// <summary>
/// The database as Prometheus sees it, read from the observer's last snapshot at each scrape: replication lag of the
/// standby (bytes and seconds), how many nodes accept writes (more than one is the alarm of alarms), how many
/// standbys stream from the designated primary, whether each node answers.
/// </summary>
public sealed class DatabaseMetrics
{
    private readonly DatabaseObserver _observer;
    private readonly DatabaseRoutingTable _routing;

    public DatabaseMetrics(GatewayMetrics metrics, DatabaseObserver observer, DatabaseRoutingTable routing)
    {
        _observer = observer;
        _routing = routing;
        metrics.ObservedGauge("gateway_db_replication_lag_bytes", "WAL bytes the standby has not replayed yet, behind the designated primary.",
            ["site"], () => StandbyLag(s => s.ReplayLagBytes));
        // PostgreSQL stops measuring replay_lag once an idle standby has caught up: zero bytes behind is zero seconds.
        metrics.ObservedGauge("gateway_db_replication_lag_seconds", "Replay lag of the streaming standby in time, as the primary measures it.",
            ["site"], () => StandbyLag(s => s.ReplayLag?.TotalSeconds ?? (s.ReplayLagBytes == 0 ? 0 : null)));
        metrics.ObservedGauge("gateway_db_writable_nodes",
            "Database nodes that are primary and not read-only: 1 normally, 0 during a switch, more than 1 is split brain.", WritableNodes);
        metrics.ObservedGauge("gateway_db_node_up", "1 while the gateway's probe of the node succeeds.", ["site"], NodesUp);
        metrics.ObservedGauge("gateway_db_streaming_standbys",
            "Standbys streaming from the designated primary, as the primary reports them: 1 normally, 0 while none follows it (or no primary is designated, during a switch).",
            StreamingStandbys);
    }

    /// <summary>The standbys the designated primary lists as streaming; 0 while no primary is designated or it does not answer.</summary>
    public static int StreamingStandbys(DatabaseSnapshot snapshot, string? primary) =>
        primary is not null && snapshot.Node(primary) is { IsPrimary: true } node ? node.Peers.Count(peer => peer.IsStreaming) : 0;

    private double StreamingStandbys() => StreamingStandbys(_observer.Current, _routing.Current.Primary);

    private IEnumerable<Sample> StandbyLag(Func<(long? ReplayLagBytes, TimeSpan? ReplayLag), double?> pick)
    {
        if (_routing.Current.Primary is not { } primary)
        {
            yield break;
        }

        var snapshot = _observer.Current;
        foreach (var node in snapshot.Nodes.Values.Where(n => n.SiteId != primary))
        {
            if (pick((snapshot.ReplayLagBytes(primary, node.SiteId), snapshot.ReplayLag(primary))) is { } value)
            {
                yield return Sample.Of(value, node.SiteId);
            }
        }
    }

    private double WritableNodes() => _observer.Current.Nodes.Values.Count(n => n.IsPrimary && !n.DefaultReadOnly);

    private IEnumerable<Sample> NodesUp() =>
        _observer.Current.Nodes.Values.Select(n => Sample.Of(n.Reachable ? 1 : 0, n.SiteId));
}
