using Gateway.Configuration;
using Gateway.Hosting;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Observability;

public static class ObservabilityServices
{
    /// <summary>
    /// The metrics registry, the proxy's and the process's metrics and the trace exporter, owned by the public host.
    /// The metrics are shared, so the admin host, which serves them, creates each before either host starts: every
    /// series exists (at 0 where it counts) from the first scrape on, whether or not anything has asked for its owner yet.
    /// </summary>
    public static IServiceCollection AddGatewayObservability(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSharedSingleton<GatewayMetrics>();
        services.AddSharedSingleton<AdminApiMetrics>();
        services.AddSingleton<ProxyMetrics>();
        if (options.Observability.RequestTelemetry)
        {
            services.Share<ProxyMetrics>();
        }

        services.AddSharedSingleton<ProxyStateGauges>();
        services.AddSharedSingleton<ProcessGauges>();
        services.AddSharedSingleton<AlarmMetrics>();
        TraceExport.AddTo(services, options.Observability);
        services.AddSingleton<IForwarderHttpClientFactory, ForwarderClientFactory>();
        return services;
    }
}
