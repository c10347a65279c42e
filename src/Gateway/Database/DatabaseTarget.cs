using Gateway.Database.Observation;
using Gateway.Model;

namespace Gateway.Database;

/// <summary>The database node a new connection on an endpoint goes to.</summary>
public sealed record DatabaseTarget(string SiteId, string Host, int Port)
{
    public override string ToString() => $"site {SiteId} ({Host}:{Port})";
}

public enum EndpointAction
{
    Forward,

    /// <summary>Wait for the routes to change (a switch is in progress), then decide again.</summary>
    Hold,

    /// <summary>Close the client with an error saying why.</summary>
    Refuse,
}

public sealed record EndpointVerdict(EndpointAction Action, DatabaseTarget? Target, string Reason);

/// <summary>
/// Which node each endpoint forwards a new connection to: a decision table over the routes and the last
/// observation, nothing else. Writes go to the designated primary only; reads go to the other node only while it is
/// an unfenced, reachable standby.
/// </summary>
public sealed class DatabaseTargets(SiteTopology topology, DatabaseRoutingTable routing, Func<DatabaseSnapshot> snapshot)
{
    public EndpointVerdict Decide(DatabaseEndpointRole role) => Decide(role, routing.Current, snapshot(), topology);

    public static EndpointVerdict Decide(DatabaseEndpointRole role, DatabaseRoutes routes, DatabaseSnapshot snapshot, SiteTopology topology) =>
        (role, routes.Primary) switch
        {
            (DatabaseEndpointRole.Write, _) when routes.WritesStopped is { } why => new(EndpointAction.Refuse, null, $"writes stopped: {why}"),
            (DatabaseEndpointRole.Write, null) => new(EndpointAction.Hold, null, "no primary designated: a switch is in progress"),
            (DatabaseEndpointRole.Write, { } primary) when snapshot.Node(primary) is { Reachable: false } =>
                new(EndpointAction.Hold, null, $"primary {primary} unreachable: waiting for it to return or for a failover"),
            (DatabaseEndpointRole.Write, { } primary) => new(EndpointAction.Forward, Target(topology, primary), $"primary of epoch {routes.Epoch}"),
            (DatabaseEndpointRole.Read, null) => new(EndpointAction.Refuse, null, "no standby to read from while a switch is in progress"),
            (DatabaseEndpointRole.Read, { } primary) => DecideRead(topology.PeerOf(primary).Id, routes, snapshot, topology),
            _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
        };

    private static EndpointVerdict DecideRead(string standby, DatabaseRoutes routes, DatabaseSnapshot snapshot, SiteTopology topology) =>
        (routes.IsFenced(standby), snapshot.Node(standby)) switch
        {
            (true, _) => new(EndpointAction.Refuse, null, $"the node of site {standby} is fenced until it rejoins as a standby"),
            (false, null) => new(EndpointAction.Forward, Target(topology, standby), "not observed yet"),
            (false, { Reachable: false } node) => new(EndpointAction.Refuse, null, $"the standby of site {standby} is unreachable: {node.Error}"),
            (false, { InRecovery: false }) => new(EndpointAction.Refuse, null, $"the node of site {standby} is not in recovery: it is no standby"),
            (false, _) => new(EndpointAction.Forward, Target(topology, standby), "healthy standby"),
        };

    private static DatabaseTarget Target(SiteTopology topology, string siteId)
    {
        var site = topology.Site(siteId);
        return new DatabaseTarget(site.Id, site.Database.Host, site.Database.Port);
    }
}
