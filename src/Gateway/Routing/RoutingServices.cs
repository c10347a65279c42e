using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Model;
using Gateway.Observability;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;

namespace Gateway.Routing;

public static class RoutingServices
{
    /// <summary>
    /// The YARP proxy over both sites' instances, with the gateway's site selection, write gate, retries and health
    /// policies. The write gate itself is the coordinator's (AddGatewayCoordinator): its limits are a site switch's.
    /// </summary>
    public static IServiceCollection AddGatewayRouting(this IServiceCollection services, GatewayOptions options)
    {
        services.AddHostFiltering(filter =>
        {
            filter.AllowedHosts = options.Routing.AllowedHosts is [] ? ["*"] : options.Routing.AllowedHosts;
            // With a list of hosts, a request naming none (empty Host, or an HTTP/1.0 request without one) is refused too.
            filter.AllowEmptyHosts = options.Routing.AllowedHosts is [];
        });
        services.AddSingleton<ILoadBalancingPolicy, LeastLoadedPolicy>();
        services.AddSingleton<IPassiveHealthCheckPolicy, ConsecutiveFailuresPassivePolicy>();
        services.AddReverseProxy()
            .LoadFromMemory([ProxyConfigFactory.Route()], [ProxyConfigFactory.Cluster(options)])
            .AddTransforms(transforms =>
            {
                transforms.RequestTransforms.Add(new ProxySpanPropagation());
                transforms.ResponseTransforms.Add(new HoldBackRetryableAnswerTransform());
            });
        services.Share<IProxyStateLookup>();
        return services;
    }

    /// <summary>The public host's request pipeline: framing and host checks for every request, then the proxy's own.</summary>
    public static WebApplication UseGatewayRouting(this WebApplication app, GatewayOptions options)
    {
        app.UseMiddleware<RequestFramingMiddleware>();
        app.UseHostFiltering();
        app.MapReverseProxy(proxy =>
        {
            if (options.Observability.RequestTelemetry)
            {
                proxy.UseMiddleware<ProxyTelemetryMiddleware>();
            }

            proxy.UseMiddleware<WriteGateMiddleware>();
            proxy.UseMiddleware<SiteSelectionMiddleware>();
            proxy.UseMiddleware<IdempotentRetryMiddleware>();
            if (options.Observability.RequestTelemetry)
            {
                proxy.UseMiddleware<ProxyAttemptTracingMiddleware>();
            }

            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }
}
