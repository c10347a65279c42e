using Gateway.Coordinator.Draining;
using Gateway.Coordinator.State;
using Gateway.Coordinator.Switching;
using Gateway.Database.Failover;
using Gateway.Filestore;
using Gateway.Database;
using Gateway.Database.Observation;
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

public sealed record OperationStatus(IReadOnlyList<StepRecord> Steps);

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
    DrainStatus Drained);

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
    Alarms alarms,
    DrainState drains)
{
    public GatewayStatus Read()
    {
        var drained = drains.Current;
        var instances = proxyState.TryGetCluster(ProxyConfigFactory.ClusterId, out var cluster)
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
            siteSwitch.CurrentSteps is { } steps ? new OperationStatus(steps) : null,
            alarms.Active,
            new DrainStatus(drained.Sites, drained.Instances));
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
        SiteSelectionMiddleware.SiteOf(destination),
        destination.Model.Config.Address,
        HealthOf(destination.Health).ToString(),
        destination.ConcurrentRequestCount,
        drained.Excludes(SiteSelectionMiddleware.SiteOf(destination), destination.DestinationId));

    private static EndpointStatus Describe(EndpointDecision decision) =>
        new(decision.Action.ToString(), decision.Target?.SiteId, decision.Target?.Host, decision.Target?.Port, decision.Reason);

    /// <summary>An instance is out when either check says so; it is healthy once a probe has said so.</summary>
    public static DestinationHealth HealthOf(DestinationHealthState health) => (health.Active, health.Passive) switch
    {
        (DestinationHealth.Unhealthy, _) or (_, DestinationHealth.Unhealthy) => DestinationHealth.Unhealthy,
        (DestinationHealth.Healthy, _) => DestinationHealth.Healthy,
        _ => DestinationHealth.Unknown,
    };
}
