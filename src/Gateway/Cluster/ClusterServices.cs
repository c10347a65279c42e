using Gateway.Model;
using Gateway.Backup;
using Gateway.Coordinator.Admin;
using Gateway.Hosting;
using Gateway.Routing;
using Gateway.Coordinator.Supervision;
using Gateway.Database.Failover;
using Gateway.Filestore;
using Gateway.Operations;

namespace Gateway.Cluster;

/// <summary>Cluster mode's registrations; each does nothing when the gateway runs alone (no <see cref="ClusterNode"/>).</summary>
public static class ClusterServices
{
    /// <summary>The hosted services that change the outside world: run only on the acting leader.</summary>
    private static readonly HashSet<Type> LeaderOnly =
    [
        typeof(SiteCoordinator), typeof(DatabaseSupervisor), typeof(FilestoreReplication), typeof(ReplicationWatch),
        typeof(BackupScheduler), typeof(BackupRecovery),
    ];

    /// <summary>
    /// Registers the cluster runtime and wraps every hosted service that acts (<see cref="LeaderOnly"/>) so it runs only
    /// while this gateway leads. Call after every other registration of the public host.
    /// </summary>
    public static IServiceCollection AddGatewayCluster(this IServiceCollection services, ClusterNode? node)
    {
        if (node is null)
        {
            return services;
        }

        var hosted = services.Where(d => d.ServiceType == typeof(IHostedService)).ToList();
        foreach (var descriptor in hosted)
        {
            services.Remove(descriptor);
            services.AddSingleton<IHostedService>(provider =>
            {
                var inner = Resolve(provider, descriptor);
                return LeaderOnly.Contains(inner.GetType())
                    ? new LeaderOnlyService(inner, provider.GetRequiredService<ClusterRole>(), provider.GetRequiredService<ILogger<LeaderOnlyService>>())
                    : inner;
            });
        }

        services.AddSingleton(node);
        services.AddSingleton<ClusterRole>();
        services.AddSingleton<ClusterStatusReader>();
        services.AddSharedSingleton<IAdminLeadership>(provider => new ClusterAdmin(
            node, provider.GetRequiredService<ClusterStatusReader>(), provider.GetRequiredService<ClusterRole>(), provider.GetRequiredService<WriteGate>()));
        services.AddSingleton<ISiteDeathAgreement, ClusterSiteDeathAgreement>();
        services.AddSingleton<ClusterMetrics>();
        // After the coordinator's local one: the last registration is the one resolved (and shared with the admin host).
        services.AddSingleton<EtcdOperationPublisher>();
        services.AddSingleton<IOperationPublisher>(provider => provider.GetRequiredService<EtcdOperationPublisher>());
        services.AddSingleton<ClusterRuntime>();
        services.AddHostedService(provider => provider.GetRequiredService<ClusterRuntime>());
        return services;
    }

    private static IHostedService Resolve(IServiceProvider provider, ServiceDescriptor descriptor) =>
        (IHostedService)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(provider)
            ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!));
}
