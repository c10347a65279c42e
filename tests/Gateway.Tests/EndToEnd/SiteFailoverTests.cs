using System.Net.Http.Json;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Switching;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>The two-site system with automatic failover on, as shipped.</summary>
public sealed class AutoFailoverSystem : TwoSiteSystem
{
    protected override void Configure(Dictionary<string, string?> values)
    {
        values["Gateway:Coordinator:AutoFailover"] = "true";
        // The fixture's site B has only just started; trust it after 2 s instead of 10.
        values["Gateway:Coordinator:RecoverAfter"] = "00:00:02";
    }
}

/// <summary>Site A dies whole (both instances and its PostgreSQL, kill -9) under load: the gateway fails over by itself.</summary>
[Integration]
public sealed class SiteFailoverTests(AutoFailoverSystem system, ITestOutputHelper output) : IClassFixture<AutoFailoverSystem>
{
    [Fact]
    public async Task Killing_every_process_of_site_A_under_load_fails_over_to_B_by_itself_keeps_every_acknowledged_deposit_and_fails_back_with_no_failed_request()
    {
        await using var workload = new DepositWorkload(system.Gateway.Public, "failover");
        workload.Start();
        await Task.Delay(2500);

        var killedAt = workload.Now;
        system.KillSite("A");

        await system.Gateway.WaitForAsync(s => s is { ActiveSite: "B", Switching: false }, "failed over to B by itself", TimeSpan.FromSeconds(30));

        var failedOverAt = workload.Now;
        await Task.Delay(2000);
        await workload.StopAsync();
        if (Environment.GetEnvironmentVariable("GATEWAY_TIMELINE_CSV") is { Length: > 0 } timeline)
        {
            // bench/failover/rto.sh site, run by bench/report.sh, plots it.
            workload.WriteTimeline(timeline, (killedAt, "kill -9 of site A"), (failedOverAt, "B active"));
        }

        var report = (await system.Gateway.Admin.GetFromJsonAsync<List<SiteSwitchReport>>("/admin/history", AdminRequests.Json))!.Single();
        var firstFailure = workload.Failures.Select(f => f.At).DefaultIfEmpty(killedAt).Min();
        var recovered = workload.Acknowledged.Where(a => a.At > firstFailure).Select(a => (TimeSpan?)a.At).Min();
        output.WriteLine($"{workload.Acknowledged.Count} deposits acknowledged, {workload.Failures.Count} failed; kill at {killedAt.TotalMilliseconds:0} ms, first failure at {firstFailure.TotalMilliseconds:0} ms, first success after it at {recovered?.TotalMilliseconds:0} ms");
        output.WriteLine($"longest window without a successful deposit across the kill: {workload.LongestWindowWithoutWrite(killedAt, workload.Now).TotalMilliseconds:0} ms");
        output.WriteLine(report.Summary);
        foreach (var step in report.Steps)
        {
            output.WriteLine($"  {step.Step}: {step.Duration.TotalMilliseconds:0} ms: {step.Outcome}");
        }

        Assert.True(report.Succeeded, report.Summary);
        Assert.Equal(SwitchKind.Failover, report.Kind);
        Assert.EndsWith("san-b", new FileInfo(system.Settings.FilestoreLink).LinkTarget);
        Assert.True(workload.Acknowledged.Any(a => a.At > failedOverAt), "no deposit succeeded after the failover");
        await AssertConsistentAsync(workload, "after the failover");

        await FailBackAsync(workload);
    }

    /// <summary>Site A comes back: failback rebuilds it as a replica, then a switchover under load moves the service home with no failed request.</summary>
    private async Task FailBackAsync(DepositWorkload workload)
    {
        await system.RestoreAllInstancesAsync();
        using var prepared = await system.Gateway.Admin.PostAsJsonAsync("/admin/failback", new { });
        var failback = (await prepared.Content.ReadFromJsonAsync<SiteSwitchReport>(AdminRequests.Json))!;
        output.WriteLine(failback.Summary);
        foreach (var step in failback.Steps)
        {
            output.WriteLine($"  {step.Step}: {step.Duration.TotalMilliseconds:0} ms: {step.Outcome}");
        }

        Assert.True(failback.Succeeded, failback.Summary);
        Assert.Equal("B", (await system.Gateway.StatusAsync()).ActiveSite);

        var since = workload.Now;
        workload.Start();
        await Task.Delay(1000);
        using var home = await system.Gateway.Admin.PostAsJsonAsync("/admin/switchover", new { to = "A" });
        var switchover = (await home.Content.ReadFromJsonAsync<SiteSwitchReport>(AdminRequests.Json))!;
        await Task.Delay(1000);
        await workload.StopAsync();

        var failed = workload.FailuresSince(since);
        output.WriteLine($"{switchover.Summary}; {failed.Count} failed requests during the switchover back");
        Assert.True(switchover.Succeeded, switchover.Summary);
        Assert.True(failed.Count == 0, string.Join("; ", failed.Take(5)));
        Assert.EndsWith("san-a", new FileInfo(system.Settings.FilestoreLink).LinkTarget);
        await AssertConsistentAsync(workload, "after the failback");
    }

    /// <summary>Every acknowledged deposit is on the surviving side, intact, and nothing appeared that was not sent.</summary>
    private async Task AssertConsistentAsync(DepositWorkload workload, string when)
    {
        var report = await ConsistencyChecker.CheckAsync(workload, system.Postgres, system.Settings);
        output.WriteLine($"{when}: {report}");
        Assert.True(report.IsClean, $"{when}: {report}; {report.Details()}");
    }
}
