using System.Net.Http.Json;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Supervision;
using Gateway.Coordinator.Switching;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// A double failure: site B dies whole, then site A. With nothing healthy to move to, the gateway must not promote
/// anything or switch sites by itself (as pg_auto_failover refuses to), and must say why, loudly.
/// </summary>
[Integration]
public sealed class DoubleFailureTests(AutoFailoverSystem system, ITestOutputHelper output) : IClassFixture<AutoFailoverSystem>
{
    [Fact]
    public async Task When_site_B_dies_and_then_site_A_the_gateway_promotes_nothing_switches_nothing_and_raises_the_refusal_alarm()
    {
        var before = await system.Gateway.StatusAsync();
        system.KillSite("B");
        await system.Gateway.WaitForAsync(
            s => s.Instances.Where(i => i.Site == "B").All(i => i.Health != "Healthy"), "site B's instances out of rotation", TimeSpan.FromSeconds(15));

        system.KillSite("A");
        var refused = await system.Gateway.WaitForAsync(
            s => s.Alarms.Any(a => a.Key == SiteCoordinator.FailoverRefusedAlarm), "the site failover refused", TimeSpan.FromSeconds(30));
        output.WriteLine(refused.Alarms.Single(a => a.Key == SiteCoordinator.FailoverRefusedAlarm).Message);

        // Well past FailoverAfter (3 s by default): a decision to fail over would have been taken by now.
        await Task.Delay(TimeSpan.FromSeconds(8));
        var status = await system.Gateway.StatusAsync();
        var history = (await system.Gateway.Admin.GetFromJsonAsync<List<SiteSwitchReport>>("/admin/history", AdminRequests.Json))!;

        Assert.Equal(("A", false, before.Epoch, "A"), (status.ActiveSite, status.Switching, status.Epoch, status.Database.Primary));
        Assert.Empty(history);
        Assert.Contains(status.Alarms, a => a.Key == SiteCoordinator.FailoverRefusedAlarm && a.Message.Contains("site B is unhealthy", StringComparison.Ordinal));
    }
}
