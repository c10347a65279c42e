using Prometheus;

namespace Gateway.Observability;

/// <summary>
/// <c>GET /metrics</c> on the admin listener, served by prometheus-net from this gateway's registry. Without the
/// admin token, as Prometheus scrapes by convention: the admin listener is bound to loopback or an operator network,
/// the figures hold no secret and change nothing; everything that shows configuration or changes state stays behind
/// the token.
/// </summary>
public static class MetricsEndpoint
{
    public const string Path = "/metrics";

    public static void Map(WebApplication app) => app.MapMetrics(Path, app.Services.GetRequiredService<GatewayMetrics>().Registry);
}
