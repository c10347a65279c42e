namespace Gateway.Observability;

public static class ObservabilityServices
{
    /// <summary>The public host owns the collector, every component's metrics and the trace exporter.</summary>
    public static IServiceCollection AddGatewayObservability(this IServiceCollection services, Configuration.ObservabilityOptions observability)
    {
        services.AddMetrics();
        services.AddSingleton<MetricsCollector>();
        services.AddSingleton<ProxyMetrics>();
        services.AddSingleton<ProxyStateGauges>();
        services.AddSingleton<ProcessGauges>();
        services.AddSingleton<PgEndpointMetrics>();
        services.AddSingleton<AdminApiMetrics>();
        TraceExport.AddTo(services, observability);
        return services;
    }

    /// <summary>
    /// The admin host serves what the public host collects. The gauges are created here, before either host
    /// starts, because an observable instrument exists only once its owner does and nothing else asks for them.
    /// </summary>
    public static IServiceCollection AddSharedObservability(this IServiceCollection adminServices, IServiceProvider shared)
    {
        adminServices.AddSingleton(shared.GetRequiredService<MetricsCollector>());
        adminServices.AddSingleton(shared.GetRequiredService<AdminApiMetrics>());
        shared.GetRequiredService<ProxyStateGauges>();
        shared.GetRequiredService<ProcessGauges>();
        shared.GetRequiredService<Database.DatabaseMetrics>();
        shared.GetRequiredService<Filestore.FilestoreMetrics>();
        shared.GetRequiredService<Coordinator.Switching.SwitchMetrics>();
        return adminServices;
    }
}
