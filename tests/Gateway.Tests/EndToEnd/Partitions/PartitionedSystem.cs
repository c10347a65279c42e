using Gateway.Testing;

namespace Gateway.Tests.EndToEnd.Partitions;

/// <summary>
/// The two-site system with each site in its own network namespace (<see cref="TwoSiteNetwork"/>): PostgreSQL A and
/// brokers a1, a2 in one, PostgreSQL B and b1, b2 in the other, the gateway in the test process in between, with
/// automatic failover on and synchronous replication (Degrade) so that no acknowledged write may be lost in a failover.
/// Where namespaces cannot be made, nothing starts and the tests report themselves skipped.
/// </summary>
public sealed class PartitionedSystem : TwoSiteSystem
{
    public TwoSiteNetwork Network { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        if (TwoSiteNetwork.WhyUnavailable is null)
        {
            await base.InitializeAsync();
        }
    }

    protected override async Task<SitePlacements> PlaceSitesAsync()
    {
        Network = await TwoSiteNetwork.CreateAsync();
        return new SitePlacements(Network.A.Placement, Network.B.Placement, TwoSiteNetwork.GatewayAddress);
    }

    protected override async Task ReleaseSitesAsync()
    {
        if (Network is not null)
        {
            await Network.DisposeAsync();
        }
    }

    protected override void Configure(Dictionary<string, string?> values)
    {
        values["Gateway:Coordinator:AutoFailover"] = "true";
        // The fixture's site B has only just started; trust it after 2 s instead of 10.
        values["Gateway:Coordinator:RecoverAfter"] = "00:00:02";
        // Commits wait for B while it streams: a failover then loses nothing acknowledged, so the tests can demand 0 lost.
        values["Gateway:Database:SynchronousMode"] = "Degrade";
    }
}

/// <summary>A test that cuts network links between namespaces: skipped, with the reason, where this machine cannot make them.</summary>
[Xunit.Sdk.TraitDiscoverer(IntegrationTraitDiscoverer.TypeName, IntegrationTraitDiscoverer.AssemblyName)]
public sealed class NetworkNamespaceFactAttribute : FactAttribute, Xunit.Sdk.ITraitAttribute
{
    public NetworkNamespaceFactAttribute()
    {
        if (TwoSiteNetwork.WhyUnavailable is { } reason)
        {
            Skip = reason;
        }
    }
}
