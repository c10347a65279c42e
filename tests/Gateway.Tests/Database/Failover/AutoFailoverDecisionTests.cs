using Gateway.Configuration;
using Gateway.Coordinator;
using Gateway.Database;
using Gateway.Database.Failover;
using Gateway.Database.Observation;
using Gateway.Tests.Support;
using static Gateway.Tests.Support.Observations;

namespace Gateway.Tests.Database.Failover;

/// <summary>The decision table of automatic promotion: every branch, each with the sentence it logs.</summary>
public sealed class AutoFailoverDecisionTests : IDisposable
{
    private readonly GatewaySettings _settings = GatewaySettings.Placeholder();
    private readonly SiteTopology _topology;
    private readonly DatabaseOptions _options = new() { FailoverAfter = TimeSpan.FromSeconds(1), MaxLagOnFailover = 1000 };

    public AutoFailoverDecisionTests() => _topology = new SiteTopology(_settings.Load().Sites);

    public void Dispose() => _settings.Dispose();

    private AutoFailoverVerdict Decide(DatabaseSnapshot snapshot, string? primary = "A", params string[] fenced) =>
        AutoFailoverDecision.Decide(snapshot, new DatabaseRoutes(primary, [.. fenced], 1), _options, _topology, Now);

    [Fact]
    public void Nothing_happens_while_the_primary_answers() =>
        Assert.Equal(new AutoFailoverVerdict(AutoFailoverAction.None, null, "primary A answers"), Decide(Snapshot(Primary("A", 10), Standby("B", 10, 10))));

    [Fact]
    public void A_primary_down_for_less_than_failover_after_is_waited_for() =>
        Assert.Equal(
            new AutoFailoverVerdict(AutoFailoverAction.Wait, "B", "primary A unreachable for 0.5 s; failing over after 1.0 s"),
            Decide(Snapshot(Down("A", TimeSpan.FromMilliseconds(500), 10), Standby("B", 10, 10))));

    [Fact]
    public void A_primary_down_long_enough_with_a_caught_up_standby_is_replaced() =>
        Assert.Equal(
            new AutoFailoverVerdict(AutoFailoverAction.Promote, "B", "primary A unreachable for 1.5 s; standby B is 0 bytes behind A, within maxLagOnFailover (1000 bytes): promoting B"),
            Decide(Snapshot(Down("A", TimeSpan.FromMilliseconds(1500), 10), Standby("B", 10, 10))));

    [Fact]
    public void A_lagging_standby_is_not_promoted_automatically()
    {
        var verdict = Decide(Snapshot(Down("A", TimeSpan.FromSeconds(2), 5000), Standby("B", 5000, 1000)));
        Assert.Equal(AutoFailoverAction.Refuse, verdict.Action);
        Assert.Contains("standby B is 4000 bytes behind A, above maxLagOnFailover (1000 bytes): automatic promotion refused", verdict.Reason);
    }

    [Fact]
    public void A_double_failure_is_never_acted_on_automatically() =>
        Assert.Equal(
            new AutoFailoverVerdict(AutoFailoverAction.Refuse, "B", "primary A and standby B are both unreachable: no automatic promotion after a double failure"),
            Decide(Snapshot(Down("A", TimeSpan.FromSeconds(5), 10), Down("B", TimeSpan.FromSeconds(5), wasStandby: true))));

    [Fact]
    public void A_fenced_standby_that_has_not_rejoined_is_not_promoted()
    {
        var verdict = Decide(Snapshot(Down("A", TimeSpan.FromSeconds(5), 10), Standby("B", 10, 10)), "A", "B");
        Assert.Equal(AutoFailoverAction.Refuse, verdict.Action);
        Assert.Contains("B is fenced", verdict.Reason);
    }

    [Fact]
    public void Nothing_happens_during_a_switch() =>
        Assert.Equal(AutoFailoverAction.None, Decide(Snapshot(Down("A", TimeSpan.FromSeconds(5), 10), Standby("B", 10, 10)), primary: null).Action);

    [Fact]
    public void Nothing_happens_when_automatic_failover_is_off()
    {
        _options.AutoFailover = false;
        Assert.Equal("automatic failover is off", Decide(Snapshot(Down("A", TimeSpan.FromSeconds(5), 10), Standby("B", 10, 10))).Reason);
    }
}
