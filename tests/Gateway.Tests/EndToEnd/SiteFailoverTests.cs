using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
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
public sealed class SiteFailoverTests(AutoFailoverSystem system, ITestOutputHelper output) : IClassFixture<AutoFailoverSystem>
{
    private static readonly TimeSpan LoadPeriod = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task Killing_every_process_of_site_A_under_load_fails_over_to_B_by_itself_keeps_every_acknowledged_deposit_and_fails_back_with_no_failed_request()
    {
        var clock = Stopwatch.StartNew();
        var deposits = new DepositLoad(system.Gateway.Public, clock);
        var (acknowledged, failedAtMs) = (deposits.Acknowledged, deposits.FailedAtMs);
        using var stop = new CancellationTokenSource();
        var load = deposits.RunAsync(LoadPeriod, stop.Token);
        await Task.Delay(2500);

        var killedAtMs = clock.ElapsedMilliseconds;
        system.Instances["a1"].Kill();
        system.Instances["a2"].Kill();
        var postmaster = int.Parse(File.ReadLines(Path.Combine(system.Postgres.Primary.DataDirectory, "postmaster.pid")).First());
        Process.GetProcessById(postmaster).Kill();

        var giveUpAt = DateTime.UtcNow.AddSeconds(30);
        while ((await system.Gateway.StatusAsync()) is { ActiveSite: not "B" } or { Switching: true })
        {
            Assert.True(DateTime.UtcNow < giveUpAt, $"no automatic failover within 30 s: {await system.Gateway.Admin.GetStringAsync("/admin/status")}");
            await Task.Delay(100);
        }

        await Task.Delay(2000);
        await stop.CancelAsync();
        await load;

        var report = (await system.Gateway.Admin.GetFromJsonAsync<List<SiteSwitchReport>>("/admin/history", AdminRequests.Json))!.Single();
        var firstFailure = failedAtMs.IsEmpty ? (long?)null : failedAtMs.Min();
        var recovered = acknowledged.Values.Where(a => a.AtMs > (firstFailure ?? killedAtMs)).Select(a => a.AtMs).DefaultIfEmpty(-1).Min();
        output.WriteLine($"{acknowledged.Count} deposits acknowledged, {failedAtMs.Count} failed; kill at {killedAtMs} ms, first failure at {firstFailure} ms, first success after it at {recovered} ms");
        output.WriteLine($"longest window without a successful deposit across the kill: {LongestWindowWithoutSuccess(acknowledged.Values.Select(a => a.AtMs), killedAtMs)} ms");
        output.WriteLine(report.Summary);
        foreach (var step in report.Steps)
        {
            output.WriteLine($"  {step.Step}: {step.Duration.TotalMilliseconds:0} ms: {step.Outcome}");
        }

        Assert.True(report.Succeeded, report.Summary);
        Assert.Equal(SwitchKind.Failover, report.Kind);
        Assert.EndsWith("san-b", new FileInfo(system.Settings.FilestoreLink).LinkTarget);
        Assert.True(recovered > 0, "no deposit succeeded after the failover");
        await AssertPresentAsync(acknowledged, "after the failover");

        await FailBackAsync(acknowledged, clock);
    }

    /// <summary>Site A comes back: failback rebuilds it as a replica, then a switchover under load moves the service home with no failed request.</summary>
    private async Task FailBackAsync(ConcurrentDictionary<Guid, (string Sha256, long AtMs)> acknowledged, Stopwatch clock)
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

        var deposits = new DepositLoad(system.Gateway.Public, clock, acknowledged);
        var failedAtMs = deposits.FailedAtMs;
        using var stop = new CancellationTokenSource();
        var load = deposits.RunAsync(LoadPeriod, stop.Token);
        await Task.Delay(1000);
        using var home = await system.Gateway.Admin.PostAsJsonAsync("/admin/switchover", new { to = "A" });
        var switchover = (await home.Content.ReadFromJsonAsync<SiteSwitchReport>(AdminRequests.Json))!;
        await Task.Delay(1000);
        await stop.CancelAsync();
        await load;

        output.WriteLine($"{switchover.Summary}; {failedAtMs.Count} failed deposits during the switchover back");
        Assert.True(switchover.Succeeded, switchover.Summary);
        Assert.Empty(failedAtMs);
        Assert.EndsWith("san-a", new FileInfo(system.Settings.FilestoreLink).LinkTarget);
        await AssertPresentAsync(acknowledged, "after the failback");
    }

    /// <summary>The RTO as clients saw it: the longest time between two successful deposits, the later one after the kill.</summary>
    private static long LongestWindowWithoutSuccess(IEnumerable<long> acknowledgedAtMs, long killedAtMs)
    {
        var times = acknowledgedAtMs.Order().ToList();
        return times.Zip(times.Skip(1)).Where(pair => pair.Second > killedAtMs).Select(pair => pair.Second - pair.First).DefaultIfEmpty(0).Max();
    }

    private async Task AssertPresentAsync(ConcurrentDictionary<Guid, (string Sha256, long AtMs)> acknowledged, string when)
    {
        foreach (var (id, (sha256, _)) in acknowledged)
        {
            using var response = await system.Gateway.Public.GetAsync($"/deposits/{id}/content");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"acknowledged deposit {id} is gone {when}: {(int)response.StatusCode}");
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync())));
        }
    }
}
