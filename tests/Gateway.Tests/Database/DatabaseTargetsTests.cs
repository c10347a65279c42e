using Gateway.Database;
using Gateway.Model;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Observations;

namespace Gateway.Tests.Database;

public sealed class DatabaseTargetsTests : IDisposable
{
    private readonly GatewaySettings _settings = GatewaySettings.Placeholder();
    private readonly SiteTopology _topology;

    public DatabaseTargetsTests() => _topology = new SiteTopology(_settings.Load().Sites);

    public void Dispose() => _settings.Dispose();

    private EndpointVerdict Decide(DatabaseEndpointRole role, string? primary, params string[] fenced) =>
        DatabaseTargets.Decide(role, new DatabaseRoutes(primary, [.. fenced], 3), Snapshot(Primary("A", 100), Standby("B", 100, 100)), _topology);

    [Theory]
    [InlineData("A", "A", 5432)]
    [InlineData("B", "B", 5433)]
    public void Writes_go_to_the_designated_primary(string primary, string site, int port)
    {
        var decision = Decide(DatabaseEndpointRole.Write, primary);
        Assert.Equal((EndpointAction.Forward, site, port), (decision.Action, decision.Target!.SiteId, decision.Target.Port));
    }

    [Fact]
    public void Writes_are_held_while_no_primary_is_designated()
    {
        var decision = Decide(DatabaseEndpointRole.Write, null);
        Assert.Equal(EndpointAction.Hold, decision.Action);
        Assert.Equal("no primary designated: a switch is in progress", decision.Reason);
    }

    [Fact]
    public void Writes_are_held_while_the_primary_is_unreachable_so_a_failover_or_its_return_can_take_them()
    {
        var decision = DatabaseTargets.Decide(DatabaseEndpointRole.Write, new DatabaseRoutes("A", [], 3), Snapshot(Down("A", TimeSpan.FromSeconds(1)), Standby("B", 1, 1)), _topology);
        Assert.Equal(EndpointAction.Hold, decision.Action);
        Assert.Equal("primary A unreachable: waiting for it to return or for a failover", decision.Reason);
    }

    [Fact]
    public void Reads_go_to_the_other_node_while_it_is_a_reachable_standby()
    {
        var decision = Decide(DatabaseEndpointRole.Read, "A");
        Assert.Equal((EndpointAction.Forward, "B"), (decision.Action, decision.Target!.SiteId));
    }

    [Fact]
    public void Reads_are_refused_while_the_other_node_is_fenced()
    {
        var decision = Decide(DatabaseEndpointRole.Read, "B", "A");
        Assert.Equal(EndpointAction.Refuse, decision.Action);
        Assert.Equal("the node of site A is fenced until it rejoins as a standby", decision.Reason);
    }

    [Fact]
    public void Reads_are_refused_when_the_other_node_is_not_in_recovery()
    {
        var decision = DatabaseTargets.Decide(DatabaseEndpointRole.Read, new DatabaseRoutes("A", [], 3), Snapshot(Primary("A", 1), Primary("B", 1)), _topology);
        Assert.Equal(EndpointAction.Refuse, decision.Action);
        Assert.Contains("it is no standby", decision.Reason);
    }

    [Fact]
    public void Reads_are_refused_when_the_standby_is_unreachable()
    {
        var decision = DatabaseTargets.Decide(DatabaseEndpointRole.Read, new DatabaseRoutes("A", [], 3), Snapshot(Primary("A", 1), Down("B", TimeSpan.FromSeconds(1))), _topology);
        Assert.Equal(EndpointAction.Refuse, decision.Action);
        Assert.Contains("unreachable: connection refused", decision.Reason);
    }

    [Fact]
    public void Writes_are_refused_at_once_while_stopped_and_reads_go_on()
    {
        var routes = new DatabaseRoutes("A", [], 3, WritesStopped: "the cluster session is not trusted");
        var snapshot = Snapshot(Primary("A", 100), Standby("B", 100, 100));

        var write = DatabaseTargets.Decide(DatabaseEndpointRole.Write, routes, snapshot, _topology);
        var read = DatabaseTargets.Decide(DatabaseEndpointRole.Read, routes, snapshot, _topology);

        Assert.Equal(EndpointAction.Refuse, write.Action);
        Assert.Contains("the cluster session is not trusted", write.Reason);
        Assert.Equal((EndpointAction.Forward, "B"), (read.Action, read.Target!.SiteId));
    }
}
