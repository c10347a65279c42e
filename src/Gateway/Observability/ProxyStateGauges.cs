using Gateway.Model;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Observability;

/// <summary>Gauges read from the routing state at each scrape: instance health, load and drain, the active site, the epoch.</summary>
public sealed class ProxyStateGauges
{
    private readonly IProxyStateLookup _proxyState;
    private readonly ActiveSiteState _activeSite;
    private readonly SiteTopology _topology;

    public ProxyStateGauges(
        GatewayMetrics metrics, IProxyStateLookup proxyState, ActiveSiteState activeSite, SiteTopology topology, GatewayState state, DrainState drains)
    {
        _proxyState = proxyState;
        _activeSite = activeSite;
        _topology = topology;
        string[] perInstance = ["site", ProxyMetrics.InstanceLabel];
        metrics.ObservedGauge(
            "gateway_instance_healthy",
            "1 while the instance's health checks pass, 0 while it is unhealthy or not probed yet.",
            perInstance,
            () => PerInstance(instance => ProxyDestinations.HealthOf(instance.Health) == DestinationHealth.Healthy ? 1 : 0));
        metrics.ObservedGauge(
            "gateway_instance_in_flight_requests",
            "Requests the instance is answering now.",
            perInstance,
            () => PerInstance(instance => instance.ConcurrentRequestCount));
        metrics.ObservedGauge(
            "gateway_instance_drained",
            "1 while the instance takes no new request because an operator drained it or its whole site, 0 otherwise.",
            perInstance,
            () => PerInstance(instance => drains.Current.Excludes(ProxyDestinations.SiteOf(instance), instance.DestinationId) ? 1 : 0));
        metrics.ObservedGauge("gateway_active_site", "1 for the site that takes writes and holds the primary database, 0 for the other.", ["site"], ActiveSite);
        metrics.ObservedGauge("gateway_epoch", "The fencing epoch, persisted: incremented by every change of the primary or the active site.", () => state.Current.Epoch);
    }

    private IEnumerable<Sample> PerInstance(Func<DestinationState, int> value)
    {
        if (!_proxyState.TryGetCluster(ProxyDestinations.ClusterId, out var cluster))
        {
            yield break;
        }

        foreach (var instance in cluster.Destinations.Values)
        {
            yield return Sample.Of(value(instance), ProxyDestinations.SiteOf(instance), instance.DestinationId);
        }
    }

    private IEnumerable<Sample> ActiveSite()
    {
        var active = _activeSite.ActiveSite;
        return _topology.Sites.Select(site => Sample.Of(site.Id == active ? 1 : 0, site.Id));
    }
}
