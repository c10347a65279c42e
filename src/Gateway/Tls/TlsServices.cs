using Gateway.Configuration;

namespace Gateway.Tls;

public static class TlsServices
{
    /// <summary>The public listener's certificate, reloaded from its file when it changes; unused without one.</summary>
    public static IServiceCollection AddGatewayTls(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSingleton<ReloadingCertificate>();
        return services;
    }
}
