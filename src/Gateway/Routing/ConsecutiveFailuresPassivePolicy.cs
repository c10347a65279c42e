using System.Runtime.CompilerServices;
using Gateway.Configuration;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// Passive health: an instance whose proxied requests fail (refused, reset, timed out) or are answered 5xx too many
/// times in a row (<see cref="PassiveHealth"/> decides) leaves rotation for the reactivation period; active probes
/// then decide when it returns. YARP's built-in failure-rate policy needs at least 10 requests in a 60 s window, far
/// too slow for a site failover, and does not look at answers.
/// </summary>
public sealed partial class ConsecutiveFailuresPassivePolicy(
    IOptions<GatewayOptions> options,
    IDestinationHealthUpdater healthUpdater,
    ILogger<ConsecutiveFailuresPassivePolicy> logger) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "ConsecutiveFailures";

    private readonly ConditionalWeakTable<DestinationState, StrongBox<long>> _streaks = new();
    private readonly HealthCheckOptions _health = options.Value.Routing.HealthCheck;

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var error = context.Features.Get<IForwarderErrorFeature>()?.Error ?? ForwarderError.None;
        var status = context.Response.StatusCode;
        var cell = _streaks.GetValue(destination, _ => new StrongBox<long>());
        PassiveStep step;
        while (true)
        {
            // Requests to one instance finish concurrently: both streaks are swapped together, or the step is taken again.
            var seen = Volatile.Read(ref cell.Value);
            step = PassiveHealth.Next(FailureStreaks.Unpack(seen), error, status, destination.DestinationId, _health);
            var next = step.Streaks.Pack();
            if (next == seen || Interlocked.CompareExchange(ref cell.Value, next, seen) == seen)
            {
                break;
            }
        }

        if (step.TakeOutBecause is { } sentence)
        {
            Log.TakenOutOfRotation(logger, sentence);
            healthUpdater.SetPassive(cluster, destination, DestinationHealth.Unhealthy, _health.PassiveReactivationPeriod);
        }
    }
}
