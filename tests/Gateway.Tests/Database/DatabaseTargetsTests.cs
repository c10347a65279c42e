using Gateway.Coordinator;
using Gateway.Database;
using Gateway.Tests.Support;

namespace Gateway.Tests.Database;

public sealed class DatabaseTargetsTests
{
    [Theory]
    [InlineData("A", DatabaseEndpointRole.Write, "A", 5432)]
    [InlineData("A", DatabaseEndpointRole.Read, "B", 5433)]
    [InlineData("B", DatabaseEndpointRole.Write, "B", 5433)]
    [InlineData("B", DatabaseEndpointRole.Read, "A", 5432)]
    public void Writes_go_to_the_active_sites_node_and_reads_to_the_other(string active, DatabaseEndpointRole role, string site, int port)
    {
        using var settings = GatewaySettings.Placeholder();
        var targets = new DatabaseTargets(new SiteTopology(settings.Load().Sites), new ActiveSiteState(active));

        Assert.Equal(new DatabaseTarget(site, "127.0.0.1", port), targets.For(role));
    }
}
