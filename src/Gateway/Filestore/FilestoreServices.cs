using Gateway.Configuration;
using Gateway.Hosting;

namespace Gateway.Filestore;

public static class FilestoreServices
{
    /// <summary>The replicator of the active site's SAN to the other one, and its metrics.</summary>
    public static IServiceCollection AddGatewayFilestore(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSingleton(options.Filestore.Replication);
        services.AddSharedSingleton<FilestoreReplication>();
        services.AddHostedService(provider => provider.GetRequiredService<FilestoreReplication>());
        services.AddSharedSingleton<FilestoreMetrics>();
        return services;
    }
}
