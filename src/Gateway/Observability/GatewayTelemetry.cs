using System.Diagnostics;

namespace Gateway.Observability;

/// <summary>The names every component uses to emit metrics and spans (see README.md in this folder for the recipe).</summary>
public static class GatewayTelemetry
{
    /// <summary>
    /// The name of the meter every gateway metric is created on (<see cref="MetricsCollector.Meter"/>, from the host's
    /// meter factory). The collector exposes exactly the instruments of this meter from its own host's factory, so two
    /// gateways in one process (tests) never see each other's.
    /// </summary>
    public const string MeterName = "Gateway";

    /// <summary>
    /// Spans of the gateway's own work: one per proxied request, and (added by the coordinator) one per failover and
    /// per failover step. Static because .NET matches trace listeners to sources by name, process-wide.
    /// </summary>
    public static readonly ActivitySource Source = new("Gateway");
}
