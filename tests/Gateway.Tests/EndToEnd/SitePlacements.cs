using Gateway.Testing;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// Where the two-site system's processes run: each site's PostgreSQL node and brokers (loopback, or the site's network
/// namespace), and the address on which the sites reach the gateway's database endpoints.
/// </summary>
public sealed record SitePlacements(NetworkPlacement A, NetworkPlacement B, string GatewayAddress)
{
    public static SitePlacements Loopback { get; } = new(NetworkPlacement.Loopback, NetworkPlacement.Loopback, "127.0.0.1");

    /// <summary>Site A's placement for an instance id starting with 'a', B's for 'b'.</summary>
    public NetworkPlacement Of(string instanceId) => instanceId.StartsWith('a') ? A : B;
}
