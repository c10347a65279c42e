using System.Net.Http.Json;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Switching;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// Automatic failover on, commits synchronous. Degrade, not Strict: after a site dies the survivor has no standby
/// until the dead site is rebuilt, and Strict would hold every write until then, so clients would measure the
/// rebuild, not the failover. No acknowledged write is at risk from that: every kill happens while a standby
/// streams synchronously (the test waits for it), and a lone survivor is never killed.
/// </summary>
public sealed class SynchronousFailoverSystem : TwoSiteSystem
{
    /// <summary>How long a rebuilt site must stay healthy before the coordinator trusts it as a failover target.</summary>
    public static readonly TimeSpan RecoverAfter = TimeSpan.FromSeconds(2);

    protected override void Configure(Dictionary<string, string?> values)
    {
        values["Gateway:Coordinator:AutoFailover"] = "true";
        values["Gateway:Coordinator:RecoverAfter"] = RecoverAfter.ToString();
        values["Gateway:Database:SynchronousMode"] = "Degrade";
    }
}

/// <summary>
/// The active site dies whole (kill -9 of both instances and its PostgreSQL) under deposit and read load,
/// the gateway fails over by itself, the dead site is restarted and rebuilt as a replica (failback preparation), and
/// then it is the other site's turn: A dies, then B, then A... GATEWAY_CHAOS_CYCLES failovers (2 by default; the
/// long run, bench/chaos/run.sh, does 20). The checker then reads both databases and both SANs: nothing lost,
/// invented, duplicated or corrupted.
/// </summary>
[Integration]
public sealed class RepeatedFailoverTests(SynchronousFailoverSystem system, ITestOutputHelper output) : IClassFixture<SynchronousFailoverSystem>
{
    private static readonly int Cycles =
        int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_CHAOS_CYCLES"), out var cycles) && cycles > 0 ? cycles : 2;

    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Repeated_unplanned_failovers_of_the_active_site_under_load_in_synchronous_mode_lose_invent_duplicate_and_corrupt_nothing()
    {
        await using var workload = new DepositWorkload(system.Gateway.Public, "chaos");
        workload.Start();
        var rtos = new List<TimeSpan>();
        for (var cycle = 1; cycle <= Cycles; cycle++)
        {
            rtos.Add(await FailOverAndRebuildAsync(cycle, workload));
        }

        await Task.Delay(1000);
        await workload.StopAsync();

        var report = await ConsistencyChecker.CheckAsync(workload, system.Postgres, system.Settings);
        var sorted = rtos.Order().ToList();
        output.WriteLine(report.ToString());
        output.WriteLine($"failed requests by reason: {workload.FailureReasons()}");
        output.WriteLine($"client-seen RTO over {Cycles} unplanned failovers: median {Median(sorted).TotalMilliseconds:0} ms, max {sorted[^1].TotalMilliseconds:0} ms (per cycle: {string.Join(", ", rtos.Select(r => r.TotalMilliseconds.ToString("0")))} ms)");

        var failovers = (await system.Gateway.Admin.GetFromJsonAsync<List<SiteSwitchReport>>("/admin/history", AdminRequests.Json))!.Where(r => r.Kind == SwitchKind.Failover).ToList();
        Assert.True(failovers.Count == Cycles && failovers.All(f => f.Succeeded), $"expected {Cycles} successful failovers: {string.Join("; ", failovers.Select(f => f.Summary))}");
        Assert.True(report.IsClean, $"{report}; {report.Details()}");
    }

    /// <summary>One cycle: kill the active site, wait for the automatic failover, restart and rebuild the dead site. Returns the client-seen RTO.</summary>
    private async Task<TimeSpan> FailOverAndRebuildAsync(int cycle, DepositWorkload workload)
    {
        var victim = (await system.Gateway.StatusAsync()).ActiveSite;
        var survivor = victim == "A" ? "B" : "A";
        await WaitUntilSynchronousAsync(victim);

        var killedAt = workload.Now;
        system.KillSite(victim);
        await system.Gateway.WaitForAsync(s => s is { Switching: false } && s.ActiveSite == survivor && s.Database.Primary == survivor, $"failed over {victim} -> {survivor} by itself", WaitLimit);
        var failedOverAt = workload.Now;
        // Clients write to the survivor alone for a while: this is the window in which the old site is simply gone.
        await Task.Delay(2000);
        var rto = workload.LongestWindowWithoutWrite(killedAt, workload.Now);
        Assert.True(workload.Acknowledged.Any(a => a.At > failedOverAt), $"cycle {cycle}: no deposit succeeded on {survivor} after the failover");

        await system.RestoreAllInstancesAsync();
        using var response = await system.Gateway.Admin.PostAsJsonAsync("/admin/failback", new { });
        var failback = (await response.Content.ReadFromJsonAsync<SiteSwitchReport>(AdminRequests.Json))!;
        Assert.True(failback.Succeeded, $"cycle {cycle}: {failback.Summary}: {string.Join("; ", failback.Steps.Select(s => $"{s.Step}: {s.Outcome}"))}");

        output.WriteLine($"cycle {cycle}: killed site {victim} at {killedAt.TotalSeconds:0.0} s, failed over to {survivor} {(failedOverAt - killedAt).TotalMilliseconds:0} ms later; client-seen RTO of cycle {cycle}: {rto.TotalMilliseconds:0} ms; {victim} rebuilt as a replica in {failback.Total.TotalMilliseconds:0} ms; {workload.Acknowledged.Count} acknowledged, {workload.Failures.Count} failed so far");
        return rto;
    }

    /// <summary>
    /// Waits until the site's database node is the primary with a standby confirming commits synchronously (asked
    /// of PostgreSQL itself, not the gateway), and until the other site has been healthy long enough to be trusted.
    /// Killing earlier would test asynchronous replication or the refusal to fail over, not this scenario.
    /// </summary>
    private async Task WaitUntilSynchronousAsync(string site)
    {
        var node = system.DatabaseOf(site);
        var giveUpAt = DateTime.UtcNow + WaitLimit;
        while (await node.ScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == 0)
        {
            Assert.True(DateTime.UtcNow < giveUpAt, $"no synchronous standby of {site} within {WaitLimit.TotalSeconds:0} s: {await system.Gateway.Admin.GetStringAsync("/admin/status")}");
            await Task.Delay(100);
        }

        await Task.Delay(SynchronousFailoverSystem.RecoverAfter + TimeSpan.FromSeconds(1));
    }

    private static TimeSpan Median(List<TimeSpan> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
