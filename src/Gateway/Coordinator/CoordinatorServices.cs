using Gateway.Configuration;
using Gateway.Coordinator.Audit;
using Gateway.Coordinator.Hooks;
using Gateway.Coordinator.Pausing;
using Gateway.Coordinator.Supervision;
using Gateway.Coordinator.Switching;
using Gateway.Hosting;
using Gateway.Observability;
using Gateway.Model;
using Gateway.Operations;
using Gateway.Routing;

namespace Gateway.Coordinator;

public static class CoordinatorServices
{
    /// <summary>The site coordinator and what it runs: site switches with their hooks, failback, one operation at a time, the audit log.</summary>
    public static IServiceCollection AddGatewayCoordinator(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSharedSingleton(provider => WriteGateAtStart(options.Coordinator, provider.GetRequiredService<GatewayState>(), provider.GetRequiredService<TimeProvider>()));
        services.AddSharedSingleton<SwitchMetrics>();
        services.AddSingleton<IHookProcess>(provider => new ShellHookProcess(provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SwitchHooks>();
        services.AddSharedSingleton<SiteSwitch>();
        services.AddSharedSingleton<FailbackPreparation>();
        services.AddSharedSingleton(provider => new OperationGate(provider.GetRequiredService<TimeProvider>()));
        // Cluster mode registers its own after this one (published in etcd); the last registration is the one resolved.
        services.AddSharedSingleton<IOperationPublisher>(_ => new LocalOperationPublisher());
        services.AddSharedSingleton(provider => new OperationHistory(options.StateDirectory, provider.GetRequiredService<ILogger<OperationHistory>>()));
        services.AddSharedSingleton<ExclusiveOperation>();
        services.AddSharedSingleton(new AutomaticFailoverPause(options.StateDirectory));
        services.AddSharedSingleton<DatabaseOperations>();
        services.AddSharedSingleton<SanProbes>();
        services.AddHostedService(provider => provider.GetRequiredService<SanProbes>());
        services.AddSharedSingleton(provider => new AuditLog(
            options.StateDirectory, provider.GetRequiredService<AdminApiMetrics>(), provider.GetRequiredService<ILogger<AuditLog>>()));
        services.AddSharedSingleton<SiteCoordinator>();
        services.AddHostedService(provider => provider.GetRequiredService<SiteCoordinator>());
        services.AddHostedService<ReplicationWatch>();
        return services;
    }

    /// <summary>
    /// The gate that holds HTTP writes during a site switch, with this section's limits. A gateway killed in the middle
    /// of a site switch starts with writes held too, until the resumed switch routes them.
    /// </summary>
    private static WriteGate WriteGateAtStart(CoordinatorOptions coordinator, GatewayState state, TimeProvider time)
    {
        var gate = new WriteGate(coordinator.MaxHeldWrites, coordinator.MaxHoldTime, time);
        if (state.Current.Switching)
        {
            gate.Close();
        }

        return gate;
    }
}
