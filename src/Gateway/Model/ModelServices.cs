using Gateway.Configuration;
using Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Model;

public static class ModelServices
{
    /// <summary>
    /// The state every feature shares: the clock, the durable state (read from disk now, so each feature starts from
    /// what a previous run left), the topology, the active site, the drains and the alarms. The durable state is kept
    /// in <paramref name="store"/> and the drains in <paramref name="drains"/> when given (cluster mode: etcd), else in
    /// StateDirectory.
    /// </summary>
    public static IServiceCollection AddGatewayModel(
        this IServiceCollection services, GatewayOptions options, TimeProvider time, IDurableStateStore? store = null, IDrainStore? drains = null)
    {
        var state = GatewayState.LoadOrCreate(store ?? new DurableStateStore(options.StateDirectory), options.ActiveSite, time);
        services.AddSharedSingleton(time);
        services.AddSingleton(Options.Create(options));
        services.AddSharedSingleton(state);
        services.AddSharedSingleton(new SiteTopology(options.Sites));
        services.AddSharedSingleton(new ActiveSiteState(state.Current.ActiveSite));
        services.AddSharedSingleton(drains is null ? DrainState.Load(options.StateDirectory) : DrainState.Load(drains));
        services.AddSharedSingleton<Alarms>();
        return services;
    }
}
