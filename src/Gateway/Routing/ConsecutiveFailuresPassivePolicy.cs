using System.Runtime.CompilerServices;
using Gateway.Configuration;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// Passive health: an instance whose proxied requests fail (refused, reset, timed out) this many times in a row
/// leaves rotation for the reactivation period; active probes then decide when it returns. YARP's built-in
/// failure-rate policy needs at least 10 requests in a 60 s window, far too slow for a site failover.
/// </summary>
public sealed partial class ConsecutiveFailuresPassivePolicy(
    IOptions<GatewayOptions> options,
    IDestinationHealthUpdater healthUpdater,
    ILogger<ConsecutiveFailuresPassivePolicy> logger) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "ConsecutiveFailures";

    private readonly ConditionalWeakTable<DestinationState, StrongBox<int>> _failures = new();
    private readonly HealthCheckOptions _health = options.Value.Routing.HealthCheck;

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var error = context.Features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
        var failures = _failures.GetValue(destination, _ => new StrongBox<int>());
        if (!TransportFaults.IsDestinationFault(error))
        {
            Interlocked.Exchange(ref failures.Value, 0);
            return;
        }

        var count = Interlocked.Increment(ref failures.Value);
        if (count >= _health.UnhealthyAfterRequestFailures)
        {
            Log.TakenOutOfRotation(logger, destination.DestinationId, count, error);
            healthUpdater.SetPassive(cluster, destination, DestinationHealth.Unhealthy, _health.PassiveReactivationPeriod);
            Interlocked.Exchange(ref failures.Value, 0);
        }
    }
}
