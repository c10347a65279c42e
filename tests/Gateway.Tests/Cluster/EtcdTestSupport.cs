using Gateway.Cluster;
using Gateway.Testing;

namespace Gateway.Tests.Cluster;

/// <summary>A test against a real etcd: skipped, with the reason, where etcd is not installed (tests/run.sh installs it).</summary>
[Xunit.Sdk.TraitDiscoverer(IntegrationTraitDiscoverer.TypeName, IntegrationTraitDiscoverer.AssemblyName)]
public sealed class EtcdFactAttribute : FactAttribute, Xunit.Sdk.ITraitAttribute
{
    public EtcdFactAttribute()
    {
        if (EtcdCluster.WhyUnavailable is { } reason)
        {
            Skip = reason;
        }
    }
}

internal static class EtcdTestSupport
{
    /// <summary>Options of one gateway of a cluster named <paramref name="name"/> on <paramref name="endpoints"/>.</summary>
    public static ClusterOptions Options(IEnumerable<string> endpoints, string name, string gatewayId = "gw-a", int leaseTtlSeconds = 3) => new()
    {
        Etcd = new EtcdOptions { Endpoints = [.. endpoints] },
        Name = name,
        GatewayId = gatewayId,
        LeaseTtl = TimeSpan.FromSeconds(leaseTtlSeconds),
        StartupTimeout = TimeSpan.FromSeconds(5),
    };

    public static string UniqueName(string what) => $"{what}-{Guid.NewGuid():N}"[..24];

    public static Task<EtcdStore> ConnectAsync(ClusterOptions options) =>
        EtcdStore.ConnectAsync(options, TimeProvider.System, null, CancellationToken.None);
}
