using Gateway.Database;
using Gateway.Routing;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Coordinator.Admin;

public sealed record InstanceStatus(string Id, string Site, string Url, string Health, int InFlight);

public sealed record EndpointStatus(string Site, string Host, int Port);

public sealed record DatabaseStatus(EndpointStatus Write, EndpointStatus Read);

public sealed record GatewayStatus(string ActiveSite, IReadOnlyList<InstanceStatus> Instances, DatabaseStatus Database);

/// <summary>Reads the live routing and database state into the admin API's status document.</summary>
public sealed class GatewayStatusReader(IProxyStateLookup proxyState, ActiveSiteState activeSite, DatabaseTargets databaseTargets)
{
    public GatewayStatus Read()
    {
        var instances = proxyState.TryGetCluster(ProxyConfigFactory.ClusterId, out var cluster)
            ? cluster.Destinations.Values.OrderBy(d => d.DestinationId, StringComparer.Ordinal).Select(Describe).ToList()
            : [];
        return new GatewayStatus(
            activeSite.ActiveSite,
            instances,
            new DatabaseStatus(Describe(databaseTargets.For(DatabaseEndpointRole.Write)), Describe(databaseTargets.For(DatabaseEndpointRole.Read))));
    }

    private static InstanceStatus Describe(DestinationState destination) => new(
        destination.DestinationId,
        SiteSelectionMiddleware.SiteOf(destination),
        destination.Model.Config.Address,
        HealthOf(destination.Health).ToString(),
        destination.ConcurrentRequestCount);

    private static EndpointStatus Describe(DatabaseTarget target) => new(target.SiteId, target.Host, target.Port);

    /// <summary>An instance is out when either check says so; it is healthy once a probe has said so.</summary>
    public static DestinationHealth HealthOf(DestinationHealthState health) => (health.Active, health.Passive) switch
    {
        (DestinationHealth.Unhealthy, _) or (_, DestinationHealth.Unhealthy) => DestinationHealth.Unhealthy,
        (DestinationHealth.Healthy, _) => DestinationHealth.Healthy,
        _ => DestinationHealth.Unknown,
    };
}
