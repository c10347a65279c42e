using Gateway.Configuration;
using Gateway.Database.Failover;
using Gateway.Database.Nodes;
using Gateway.Database.Observation;
using Gateway.Database.Sessions;
using Gateway.Hosting;
using Gateway.Model;

namespace Gateway.Database;

public static class DatabaseServices
{
    /// <summary>The PostgreSQL endpoints, the observer of the nodes and the supervisor that acts on what it sees.</summary>
    public static IServiceCollection AddGatewayDatabase(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSharedSingleton(provider => RoutingTableAtStart(provider.GetRequiredService<GatewayState>()));
        services.AddSingleton<NodeConnections>();
        services.AddSharedSingleton<DatabaseObserver>();
        services.AddHostedService(provider => provider.GetRequiredService<DatabaseObserver>());
        services.AddSharedSingleton(provider => new DatabaseTargets(
            provider.GetRequiredService<SiteTopology>(),
            provider.GetRequiredService<DatabaseRoutingTable>(),
            () => provider.GetRequiredService<DatabaseObserver>().Current));
        services.AddSingleton<PgSessions>();
        services.AddSingleton<PgSessionMetrics>();
        services.AddSingleton<PgSessionMover>();
        services.AddSingleton<PgEndpointForwarder>();
        services.AddSharedSingleton<PgEndpointMetrics>();
        services.AddSingleton<NodeCommands>();
        services.AddSharedSingleton<DatabaseMetrics>();
        services.AddSharedSingleton<DatabaseFailover>();
        services.AddSharedSingleton<RejoinRunner>();
        services.AddHostedService<DatabaseSupervisor>();
        return services;
    }

    /// <summary>
    /// The PostgreSQL endpoints' listeners (<see cref="PgEndpointServer"/>): chained last, so they accept clients
    /// once the observer, the supervisor and the coordinator run, and stop before them.
    /// </summary>
    public static IServiceCollection AddGatewayDatabaseEndpoints(this IServiceCollection services) =>
        services.AddHostedService<PgEndpointServer>();

    /// <summary>A gateway killed in the middle of a switch starts with writes held; the supervisor finishes the switch.</summary>
    private static DatabaseRoutingTable RoutingTableAtStart(GatewayState state) =>
        new(state.Current.Switching ? null : state.Current.DatabasePrimary, state.Current.Epoch);
}
