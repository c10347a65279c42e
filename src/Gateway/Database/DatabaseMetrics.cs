using System.Diagnostics.Metrics;
using Gateway.Database.Observation;
using Gateway.Observability;

namespace Gateway.Database;

/// <summary>
/// The database as Prometheus sees it, read from the observer's last snapshot at each scrape: replication lag of the
/// standby (bytes and seconds), how many nodes accept writes (more than one is the alarm of alarms), role per node.
/// </summary>
public sealed class DatabaseMetrics
{
    private readonly DatabaseObserver _observer;
    private readonly DatabaseRoutingTable _routing;

    public DatabaseMetrics(MetricsCollector collector, DatabaseObserver observer, DatabaseRoutingTable routing)
    {
        _observer = observer;
        _routing = routing;
        var meter = collector.Meter;
        meter.CreateObservableGauge("gateway.db.replication.lag_bytes", () => StandbyLag(s => s.ReplayLagBytes), "By",
            "WAL bytes the standby has not replayed yet, behind the designated primary.");
        // PostgreSQL stops measuring replay_lag once an idle standby has caught up: zero bytes behind is zero seconds.
        meter.CreateObservableGauge("gateway.db.replication.lag_seconds", () => StandbyLag(s => s.ReplayLag?.TotalSeconds ?? (s.ReplayLagBytes == 0 ? 0 : null)), "s",
            "Replay lag of the streaming standby in time, as the primary measures it.");
        meter.CreateObservableGauge("gateway.db.writable_nodes", WritableNodes, "{node}",
            "Database nodes that are primary and not read-only: 1 normally, 0 during a switch, more than 1 is split brain.");
        meter.CreateObservableGauge("gateway.db.node_up", NodesUp, description: "1 while the gateway's probe of the node succeeds.");
    }

    private IEnumerable<Measurement<double>> StandbyLag(Func<(long? ReplayLagBytes, TimeSpan? ReplayLag), double?> pick)
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
                yield return new Measurement<double>(value, new KeyValuePair<string, object?>("site", node.SiteId));
            }
        }
    }

    private int WritableNodes() => _observer.Current.Nodes.Values.Count(n => n.IsPrimary && !n.DefaultReadOnly);

    private IEnumerable<Measurement<int>> NodesUp() =>
        _observer.Current.Nodes.Values.Select(n => new Measurement<int>(n.Reachable ? 1 : 0, new KeyValuePair<string, object?>("site", n.SiteId)));
}
