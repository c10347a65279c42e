using System.Diagnostics;

namespace Gateway.Observability;

/// <summary>The source every component starts its spans on (see README.md in this folder); metrics are created on <see cref="GatewayMetrics"/>.</summary>
public static class GatewayTelemetry
{
    /// <summary>
    /// Spans of the gateway's own work: one per proxied request, and (added by the coordinator) one per failover and
    /// per failover step. Static because .NET matches trace listeners to sources by name, process-wide.
    /// </summary>
    public static readonly ActivitySource Source = new("Gateway");
}
