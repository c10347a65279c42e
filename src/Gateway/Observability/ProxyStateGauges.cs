using System.Diagnostics.Metrics;
using Gateway.Coordinator;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Draining;
using Gateway.Coordinator.State;
using Gateway.Routing;
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
        MetricsCollector collector, IProxyStateLookup proxyState, ActiveSiteState activeSite, SiteTopology topology, GatewayState state, DrainState drains)
    {
        _proxyState = proxyState;
        _activeSite = activeSite;
        _topology = topology;
        var meter = collector.Meter;
        meter.CreateObservableGauge(
            "gateway.instance.healthy",
            () => PerInstance(instance => GatewayStatusReader.HealthOf(instance.Health) == DestinationHealth.Healthy ? 1 : 0),
            description: "1 while the instance's health checks pass, 0 while it is unhealthy or not probed yet.");
        meter.CreateObservableGauge(
            "gateway.instance.in_flight_requests",
            () => PerInstance(instance => instance.ConcurrentRequestCount),
            "{request}",
            "Requests the instance is answering now.");
        meter.CreateObservableGauge(
            "gateway.instance.drained",
            () => PerInstance(instance => drains.Current.Excludes(SiteSelectionMiddleware.SiteOf(instance), instance.DestinationId) ? 1 : 0),
            description: "1 while the instance takes no new request because an operator drained it or its whole site, 0 otherwise.");
        meter.CreateObservableGauge(
            "gateway.active_site",
            ActiveSite,
            description: "1 for the site that takes writes and holds the primary database, 0 for the other.");
        meter.CreateObservableGauge("gateway.epoch", () => state.Current.Epoch, description: "The fencing epoch, persisted: incremented by every change of the primary or the active site.");
    }

    private IEnumerable<Measurement<int>> PerInstance(Func<DestinationState, int> value)
    {
        if (!_proxyState.TryGetCluster(ProxyConfigFactory.ClusterId, out var cluster))
        {
            yield break;
        }

        foreach (var instance in cluster.Destinations.Values)
        {
            yield return new Measurement<int>(value(instance), new("site", SiteSelectionMiddleware.SiteOf(instance)), new("instance", instance.DestinationId));
        }
    }

    private IEnumerable<Measurement<int>> ActiveSite()
    {
        var active = _activeSite.ActiveSite;
        return _topology.Sites.Select(site => new Measurement<int>(site.Id == active ? 1 : 0, new KeyValuePair<string, object?>("site", site.Id)));
    }
}
