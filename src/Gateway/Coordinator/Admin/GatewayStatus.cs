using Gateway.Coordinator.Pausing;
using Gateway.Coordinator.Supervision;
using Gateway.Coordinator.Switching;
using Gateway.Filestore;
using Gateway.Database;
using Gateway.Database.Observation;
using Gateway.Model;
using Gateway.Operations;
using Gateway.Routing;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Coordinator.Admin;

/// <summary>One instance; <see cref="Drained"/> is true while it takes no new request (it or its whole site is drained).</summary>
public sealed record InstanceStatus(string Id, string Site, string Url, string Health, int InFlight, bool Drained);

/// <summary>What operators drained, as they named it.</summary>
public sealed record DrainStatus(IReadOnlyList<string> Sites, IReadOnlyList<string> Instances);

public sealed record EndpointStatus(string Action, string? Site, string? Host, int? Port, string Reason);

public sealed record NodeStatus(
    string Site, bool Reachable, string? Error, string Role, int? Timeline, string? FlushLsn, string? ReceivedLsn, string? ReplayedLsn,
    bool ReplayPaused, bool ReadOnly, bool Fenced, long? ReplayLagBytes, double? ReplayLagSeconds, string SynchronousStandbyNames);

public sealed record DatabaseStatus(string? Primary, IReadOnlyList<string> Fenced, EndpointStatus Write, EndpointStatus Read, IReadOnlyList<NodeStatus> Nodes);

public sealed record WritesStatus(bool Held, int Waiting, int InFlight);

/// <param name="Running">The step under way, when known.</param>
/// <param name="RunBy">The gateway running it, in a cluster (a follower shows the leader's operation as it publishes it).</param>
public sealed record OperationStatus(IReadOnlyList<StepRecord> Steps, string? Description = null, DateTimeOffset? Since = null, string? Running = null, string? RunBy = null);

/// <summary>
/// "If you fail over now": what a failover to <see cref="To"/> would lose (database bytes and seconds behind, files and
/// bytes not on its SAN), whether the automatic gate would pass and why, and the recovery time to expect from the
/// step durations of recent switches.
/// </summary>
public sealed record FailoverForecastStatus(
    string To, bool GatePasses, string Reason, long? DatabaseBytesBehind, double? DatabaseSecondsBehind,
    int FilesNotReplicated, long BytesNotReplicated, bool FilesKnown, double? ExpectedRecoverySeconds, string ExpectedRecoveryBasis);

/// <summary>What the probe of a site's SAN directory last found.</summary>
public sealed record SanStatus(string Site, string State, string? Error);

/// <summary>A site's health as the coordinator last judged it: healthy or not, since when, and why not.</summary>
public sealed record SiteHealthStatus(string Site, bool Healthy, DateTimeOffset Since, IReadOnlyList<string> Problems);

public sealed record GatewayStatus(
    long Epoch,
    string ActiveSite,
    bool Switching,
    IReadOnlyList<InstanceStatus> Instances,
    DatabaseStatus Database,
    ReplicationStatus? Filestore,
    WritesStatus Writes,
    OperationStatus? CurrentOperation,
    IReadOnlyList<Alarm> Alarms,
    DrainStatus Drained,
    PauseStatus? Paused = null,
    FailoverForecastStatus? IfFailoverNow = null,
    IReadOnlyList<SanStatus>? Sans = null,
    string? AwaitingRejoin = null,
    IReadOnlyList<SiteHealthStatus>? Sites = null,
    ClusterStatus? Cluster = null);

/// <summary>Reads the live routing and database state into the admin API's status document.</summary>
public sealed class GatewayStatusReader(
    IProxyStateLookup proxyState,
    ActiveSiteState activeSite,
    GatewayState state,
    DatabaseTargets databaseTargets,
    DatabaseRoutingTable databaseRouting,
    DatabaseObserver databaseObserver,
    SiteTopology topology,
    FilestoreReplication filestore,
    WriteGate writeGate,
    SiteSwitch siteSwitch,
    SiteCoordinator coordinator,
    OperationGate operations,
    IOperationPublisher published,
    AutomaticFailoverPause pause,
    SanProbes sanProbes,
    Alarms alarms,
    DrainState drains)
{
    /// <summary>How many recent switches of a kind the expected recovery time is the median of.</summary>
    private const int RecentSwitches = 5;

    /// <summary>The operation this gateway runs, else the one another gateway of the cluster published as running.</summary>
    private OperationStatus? CurrentOperation() => operations.Current is { } running
        ? new OperationStatus(running.Journal.Steps, running.Description, running.Since, running.Journal.Running)
        : published.RunningElsewhere is { } elsewhere
            ? new OperationStatus(elsewhere.Steps, elsewhere.Description, elsewhere.Since, elsewhere.Running, elsewhere.RunBy)
            : null;

    public GatewayStatus Read()
    {
        var drained = drains.Current;
        var instances = proxyState.TryGetCluster(ProxyDestinations.ClusterId, out var cluster)
            ? cluster.Destinations.Values.OrderBy(d => d.DestinationId, StringComparer.Ordinal).Select(d => Describe(d, drained)).ToList()
            : [];
        return new GatewayStatus(
            state.Current.Epoch,
            activeSite.ActiveSite,
            state.Current.Switching,
            instances,
            ReadDatabase(),
            filestore.Status,
            new WritesStatus(writeGate.IsClosed, writeGate.Held, writeGate.InFlight),
            CurrentOperation(),
            alarms.Active,
            new DrainStatus(drained.Sites, drained.Instances),
            pause.Current,
            Forecast(),
            topology.Sites.Select(site => new SanStatus(site.Id, sanProbes.StateOf(site.Id).ToString(), sanProbes.ReadingOf(site.Id).Error)).ToList(),
            state.Current.AwaitingRejoin,
            coordinator.Health.Values.OrderBy(h => h.SiteId, StringComparer.Ordinal).Select(h => new SiteHealthStatus(h.SiteId, h.Healthy, h.Since, h.Problems)).ToList());
    }

    private FailoverForecastStatus? Forecast()
    {
        if (coordinator.Forecast() is not { } gate)
        {
            return null;
        }

        var (expected, basis) = ExpectedRecovery();
        return new FailoverForecastStatus(gate.Target, gate.Passes, gate.Reason, gate.DatabaseBytesBehind, gate.DatabaseSecondsBehind,
            gate.FilesNotReplicated, gate.BytesNotReplicated, gate.FilesKnown, expected, basis);
    }

    /// <summary>The median duration of the last few successful failovers (switchovers when there was none yet): what the last ones took.</summary>
    private (double? Seconds, string Basis) ExpectedRecovery()
    {
        var history = siteSwitch.History.Where(report => report.Succeeded).ToList();
        foreach (var kind in new[] { Switching.SwitchKind.Failover, Switching.SwitchKind.Switchover })
        {
            var recent = history.Where(report => report.Kind == kind).TakeLast(RecentSwitches).Select(report => report.Total.TotalSeconds).Order().ToList();
            if (recent.Count > 0)
            {
                return (recent[recent.Count / 2], $"median of the last {recent.Count} {kind.ToString().ToLowerInvariant()}(s)");
            }
        }

        return (null, "no switch recorded yet");
    }

    private DatabaseStatus ReadDatabase()
    {
        var routes = databaseRouting.Current;
        var snapshot = databaseObserver.Current;
        var nodes = topology.Sites.Select(site => Describe(site.Id, snapshot, routes)).ToList();
        return new DatabaseStatus(
            routes.Primary, routes.Fenced.Order().ToList(), Describe(databaseTargets.Decide(DatabaseEndpointRole.Write)), Describe(databaseTargets.Decide(DatabaseEndpointRole.Read)), nodes);
    }

    private NodeStatus Describe(string siteId, DatabaseSnapshot snapshot, DatabaseRoutes routes)
    {
        var node = snapshot.Node(siteId);
        var primary = routes.Primary ?? topology.PeerOf(siteId).Id;
        var isStandbySide = primary != siteId;
        return new NodeStatus(
            siteId,
            node?.Reachable ?? false,
            node is null ? "not observed yet" : node.Error,
            node switch { null or { Reachable: false } => "unknown", { InRecovery: true } => "standby", _ => "primary" },
            node?.Timeline,
            node?.FlushLsn?.ToString("X"),
            node?.ReceivedLsn?.ToString("X"),
            node?.ReplayedLsn?.ToString("X"),
            node?.ReplayPaused ?? false,
            node?.DefaultReadOnly ?? false,
            routes.IsFenced(siteId),
            isStandbySide ? snapshot.ReplayLagBytes(primary, siteId) : null,
            isStandbySide ? snapshot.ReplayLag(primary)?.TotalSeconds : null,
            node?.SynchronousStandbyNames ?? "");
    }

    private static InstanceStatus Describe(DestinationState destination, DrainSet drained) => new(
        destination.DestinationId,
        ProxyDestinations.SiteOf(destination),
        destination.Model.Config.Address,
        ProxyDestinations.HealthOf(destination.Health).ToString(),
        destination.ConcurrentRequestCount,
        drained.Excludes(ProxyDestinations.SiteOf(destination), destination.DestinationId));

    private static EndpointStatus Describe(EndpointVerdict decision) =>
        new(decision.Action.ToString(), decision.Target?.SiteId, decision.Target?.Host, decision.Target?.Port, decision.Reason);
}
