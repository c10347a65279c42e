using Gateway.Model;
using Gateway.Observability;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing.Reload;

public static class ReloadServices
{
    /// <summary>Applies a changed configuration's instance lists to the running proxy (after the proxy is registered).</summary>
    public static IServiceCollection AddGatewayConfigurationReload(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(provider => new ConfigurationReloader(
            configuration,
            provider.GetRequiredService<InMemoryConfigProvider>(),
            provider.GetRequiredService<SiteTopology>(),
            provider.GetRequiredService<GatewayMetrics>(),
            provider.GetRequiredService<ILogger<ConfigurationReloader>>()));
        services.AddHostedService(provider => provider.GetRequiredService<ConfigurationReloader>());
        return services;
    }
}
