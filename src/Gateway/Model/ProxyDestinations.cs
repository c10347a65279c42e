using Yarp.ReverseProxy.Model;

namespace Gateway.Model;

/// <summary>Where the proxy's destinations are, and what the gateway reads off one: its site, and whether it is healthy.</summary>
public static class ProxyDestinations
{
    /// <summary>The one YARP cluster that holds every service instance of both sites.</summary>
    public const string ClusterId = "service";

    /// <summary>The destination metadata key that names the instance's site.</summary>
    public const string SiteMetadataKey = "site";

    public static string SiteOf(DestinationState destination) =>
        destination.Model.Config.Metadata?.GetValueOrDefault(SiteMetadataKey) ?? "";

    /// <summary>An instance is out when either check says so; it is healthy once a probe has said so.</summary>
    public static DestinationHealth HealthOf(DestinationHealthState health) => (health.Active, health.Passive) switch
    {
        (DestinationHealth.Unhealthy, _) or (_, DestinationHealth.Unhealthy) => DestinationHealth.Unhealthy,
        (DestinationHealth.Healthy, _) => DestinationHealth.Healthy,
        _ => DestinationHealth.Unknown,
    };
}
