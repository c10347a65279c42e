using Gateway.Configuration;
using Gateway.Hosting;

namespace Gateway.Coordinator.Admin;

public static class AdminServices
{
    /// <summary>The admin host: its token and failed-login limit, and the public host's shared objects, never copies.</summary>
    public static IServiceCollection AddGatewayAdmin(this IServiceCollection services, GatewayOptions options, IServiceProvider shared)
    {
        services.AddSingleton(AdminToken.Load(options.Admin));
        services.AddSingleton(options.Admin);
        services.AddSingleton(provider => new FailedAuthLimiter(
            options.Admin.MaxFailedAuthAttempts, options.Admin.FailedAuthWindow, provider.GetRequiredService<TimeProvider>()));
        services.AddSharedFrom(shared);
        services.AddSingleton<GatewayStatusReader>();
        return services;
    }
}
