using Gateway.Testing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Filestore;

/// <summary>A valid gateway configuration in which nothing but the filestore replication has anything to do.</summary>
public static class FilestoreOnlyGateway
{
    /// <summary>Placeholder instances, no database answering on its ports, no automatic failover of either kind.</summary>
    public static GatewaySettings Settings()
    {
        var settings = GatewaySettings.Placeholder();
        settings.Values["Gateway:Sites:0:Database:Port"] = FreePort.Next().ToString();
        settings.Values["Gateway:Sites:1:Database:Port"] = FreePort.Next().ToString();
        settings.Values["Gateway:Database:AutoFailover"] = "false";
        settings.Values["Gateway:Coordinator:AutoFailover"] = "false";
        return settings;
    }
}
