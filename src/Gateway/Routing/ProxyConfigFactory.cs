using System.Globalization;
using Gateway.Configuration;
using Gateway.Model;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing;

/// <summary>Turns the sites into YARP's model: one catch-all route to one cluster holding every instance of both sites.</summary>
public static class ProxyConfigFactory
{
    public const string RouteId = "public";

    // YARP's built-in active policy reads its threshold from this cluster metadata key.
    private const string ProbeThresholdMetadata = "ConsecutiveFailuresHealthPolicy.Threshold";

    public static RouteConfig Route() => new()
    {
        RouteId = RouteId,
        ClusterId = ProxyDestinations.ClusterId,
        Match = new RouteMatch { Path = "{**catch-all}" },
        Transforms =
        [
            // Whatever X-Forwarded-* a client sends is replaced by what the gateway saw, never trusted or appended to.
            new Dictionary<string, string> { ["X-Forwarded"] = "Set" },
            new Dictionary<string, string> { ["RequestHeaderRemove"] = "Forwarded" },
            // A method override would let a client turn a GET (sent anywhere, retried) into a write behind the gateway's back.
            new Dictionary<string, string> { ["RequestHeaderRemove"] = "X-HTTP-Method-Override" },
            new Dictionary<string, string> { ["RequestHeaderRemove"] = "X-HTTP-Method" },
            new Dictionary<string, string> { ["RequestHeaderRemove"] = "X-Method-Override" },
        ],
    };

    public static ClusterConfig Cluster(GatewayOptions options)
    {
        var health = options.Routing.HealthCheck;
        return new ClusterConfig
        {
            ClusterId = ProxyDestinations.ClusterId,
            LoadBalancingPolicy = LeastLoadedPolicy.PolicyName,
            HealthCheck = new HealthCheckConfig
            {
                // Not YARP's default "HealthyOrPanic", which sends traffic to every instance once all are unhealthy: a
                // dead site must get a fast 503 with Retry-After, not requests that hang on dead instances.
                AvailableDestinationsPolicy = "HealthyAndUnknown",
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = health.Interval,
                    Timeout = health.Timeout,
                    Policy = "ConsecutiveFailures",
                    Path = health.Path,
                },
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = ConsecutiveFailuresPassivePolicy.PolicyName,
                    ReactivationPeriod = health.PassiveReactivationPeriod,
                },
            },
            Metadata = new Dictionary<string, string>
            {
                [ProbeThresholdMetadata] = health.UnhealthyAfterProbeFailures.ToString(CultureInfo.InvariantCulture),
            },
            Destinations = options.Sites
                .SelectMany(site => site.Instances.Select(instance => (site, instance)))
                .ToDictionary(
                    pair => pair.instance.Id,
                    pair => new DestinationConfig
                    {
                        Address = pair.instance.Url,
                        Metadata = new Dictionary<string, string> { [ProxyDestinations.SiteMetadataKey] = pair.site.Id },
                    }),
        };
    }
}
