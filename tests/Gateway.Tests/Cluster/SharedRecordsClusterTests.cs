using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Gateway.Coordinator.Supervision;
using Gateway.Testing;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.Cluster;

/// <summary>What an operator did through the leader outlives the leader: its pause (with its overdue alarm), its switch's report and its audit entries are the new leader's.</summary>
[Integration]
public sealed class SharedRecordsClusterTests(ITestOutputHelper output)
{
    [EtcdFact]
    public async Task After_kill_9_of_the_leader_the_new_leader_is_paused_as_the_old_one_was_raises_its_overdue_alarm_and_lists_its_switch_and_audit_entries()
    {
        await using var system = await ClusterSystem.StartAsync();
        var (leader, survivor) = (system.Gateways[0], system.Gateways[1]);
        var clock = Stopwatch.StartNew();
        await leader.WaitForAsync(s => s.Filestore is { InitialSync.Completed: true }, "the filestore's initial sync done", TimeSpan.FromSeconds(30));
        await PostAsync(leader, "/admin/switchover", """{"to":"B"}""");
        await PostAsync(leader, "/admin/pause", """{"reason":"patching site A","for":"00:00:03"}""");

        // The follower shows the leader's pause from etcd's watch; then the leader dies.
        await survivor.WaitForAsync(s => s.Paused?.Reason == "patching site A", "the leader's pause shown on the follower", TimeSpan.FromSeconds(5));
        leader.Kill();
        var led = await survivor.WaitForAsync(s => s.Cluster is { Leader: "gw2", Role: "Lead" }, "leading after the kill", TimeSpan.FromSeconds(15));
        output.WriteLine($"gw2 leads {clock.ElapsedMilliseconds} ms after the switchover was asked of gw1");

        Assert.Equal(("patching site A", "B"), (led.Paused?.Reason, led.ActiveSite));
        // Planned for 3 s: the new leader's coordinator finds it overdue and says so.
        await survivor.WaitForAsync(s => s.Alarms.Any(a => a.Key == SiteCoordinator.PauseOverdueAlarm), "the pause overdue on the new leader", TimeSpan.FromSeconds(10));
        using var history = JsonDocument.Parse(await survivor.Admin.GetStringAsync("/admin/history"));
        var switched = Assert.Single(history.RootElement.EnumerateArray());
        Assert.Equal(("B", true), (switched.GetProperty("to").GetString(), switched.GetProperty("succeeded").GetBoolean()));
        using var audit = JsonDocument.Parse(await survivor.Admin.GetStringAsync("/admin/audit"));
        var calls = audit.RootElement.EnumerateArray().Select(e => (e.GetProperty("path").GetString(), e.GetProperty("status").GetInt32())).ToList();
        Assert.Equal([("/admin/switchover", 200), ("/admin/pause", 200)], calls.Where(c => c.Item1 is "/admin/switchover" or "/admin/pause"));

        // The new leader holds the pause as its own: it can end it.
        await PostAsync(survivor, "/admin/resume", "{}");
        Assert.Null((await survivor.StatusAsync()).Paused);
        output.WriteLine($"checked {clock.ElapsedMilliseconds} ms after the switchover was asked of gw1");
    }

    private static async Task PostAsync(GatewayProcess gateway, string path, string body)
    {
        using var answer = await gateway.Admin.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(answer.IsSuccessStatusCode, $"{path}: {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
    }
}
