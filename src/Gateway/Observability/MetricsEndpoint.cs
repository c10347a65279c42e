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

    /// <summary>Maps <c>/metrics</c>; after the admin API's routes, whose call counters it starts at 0.</summary>
    public static void Map(WebApplication app)
    {
        app.MapMetrics(Path, app.Services.GetRequiredService<GatewayMetrics>().Registry);
        var adminRoutes = ((IEndpointRouteBuilder)app).DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .Select(endpoint => endpoint.RoutePattern.RawText)
            .Where(pattern => pattern?.StartsWith("/admin/", StringComparison.Ordinal) == true);
        app.Services.GetRequiredService<AdminApiMetrics>().StartAtZero(adminRoutes!);
    }
}
