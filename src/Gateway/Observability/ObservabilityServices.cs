namespace Gateway.Observability;

public static class ObservabilityServices
{
    /// <summary>The public host owns the metrics registry, every component's metrics and the trace exporter.</summary>
    public static IServiceCollection AddGatewayObservability(this IServiceCollection services, Configuration.ObservabilityOptions observability)
    {
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<ProxyMetrics>();
        services.AddSingleton<ProxyStateGauges>();
        services.AddSingleton<ProcessGauges>();
        services.AddSingleton<PgEndpointMetrics>();
        services.AddSingleton<AdminApiMetrics>();
        services.AddSingleton<AlarmMetrics>();
        TraceExport.AddTo(services, observability);
        return services;
    }

    /// <summary>
    /// The admin host serves what the public host collects. Every component's metrics are created here, before
    /// either host starts, so that each series exists (at 0 where it counts) from the first scrape on, whether or
    /// not anything has asked for its owner yet.
    /// </summary>
    public static IServiceCollection AddSharedObservability(this IServiceCollection adminServices, IServiceProvider shared)
    {
        adminServices.AddSingleton(shared.GetRequiredService<GatewayMetrics>());
        adminServices.AddSingleton(shared.GetRequiredService<AdminApiMetrics>());
        if (shared.GetRequiredService<Microsoft.Extensions.Options.IOptions<Configuration.GatewayOptions>>().Value.Observability.RequestTelemetry)
        {
            shared.GetRequiredService<ProxyMetrics>();
        }

        shared.GetRequiredService<ProxyStateGauges>();
        shared.GetRequiredService<ProcessGauges>();
        shared.GetRequiredService<PgEndpointMetrics>();
        shared.GetRequiredService<AlarmMetrics>();
        shared.GetRequiredService<Database.DatabaseMetrics>();
        shared.GetRequiredService<Filestore.FilestoreMetrics>();
        shared.GetRequiredService<Coordinator.Switching.SwitchMetrics>();
        return adminServices;
    }
}
