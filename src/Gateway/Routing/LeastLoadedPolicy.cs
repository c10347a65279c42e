using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>YARP load-balancing policy over <see cref="LeastLoaded"/>.</summary>
public sealed class LeastLoadedPolicy : ILoadBalancingPolicy
{
    public const string PolicyName = "LeastLoaded";

    public string Name => PolicyName;

    public DestinationState? PickDestination(HttpContext context, ClusterState cluster, IReadOnlyList<DestinationState> availableDestinations) =>
        availableDestinations.Count == 0
            ? null
            : LeastLoaded.Pick(availableDestinations, destination => destination.ConcurrentRequestCount, Random.Shared);
}
