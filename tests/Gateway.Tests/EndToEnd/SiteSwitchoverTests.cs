using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Switching;
using Gateway.Database.Failover;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>A planned switchover A -> B and back under mixed load, on the whole system: no client request may fail.</summary>
[Integration]
[Collection(TwoSiteSystemCollection.Name)]
public sealed class SiteSwitchoverTests(TwoSiteSystem system, ITestOutputHelper output) : IAsyncLifetime
{
    public Task InitializeAsync() => system.RestoreAllInstancesAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_planned_switchover_to_B_and_back_under_mixed_load_fails_no_request_and_keeps_every_deposit()
    {
        // 60 requests a second, a third of them deposits, the rest reads of acknowledged ones.
        await using var workload = new DepositWorkload(system.Gateway.Public, "switch", depositsPerSecond: 20, readsPerSecond: 40, contentBytes: 2048);
        workload.Start();
        await Task.Delay(1500);

        var toB = await SwitchAsync("/admin/switchover", new { to = "B" });
        Assert.Equal("B", (await system.Gateway.StatusAsync()).ActiveSite);
        Assert.EndsWith("san-b", new FileInfo(system.Settings.FilestoreLink).LinkTarget);
        await Task.Delay(1000);

        var rejoin = await system.Gateway.Admin.PostAsJsonAsync("/admin/database/rejoin", new { site = "A" });
        var rejoined = await rejoin.Content.ReadFromJsonAsync<RejoinReport>(AdminRequests.Json);
        Assert.True(rejoined!.Succeeded, rejoined.Summary);
        await WaitForReplicaAsync();
        await Task.Delay(1000);

        var toA = await SwitchAsync("/admin/switchover", new { to = "A" });
        Assert.EndsWith("san-a", new FileInfo(system.Settings.FilestoreLink).LinkTarget);
        await Task.Delay(1500);
        await workload.StopAsync();

        output.WriteLine($"{workload.Sent.Count + workload.Reads} requests ({workload.Acknowledged.Count} deposits) at 60/s, {workload.Failures.Count} failed");
        foreach (var report in new[] { toB, toA })
        {
            output.WriteLine(report.Summary);
            foreach (var step in report.Steps)
            {
                output.WriteLine($"  {step.Step}: {step.Duration.TotalMilliseconds:0} ms: {step.Outcome}");
            }
        }

        Assert.True(workload.Failures.Count == 0, string.Join("; ", workload.Failures.Take(10)));
        Assert.True(workload.Acknowledged.Count > 50, $"only {workload.Acknowledged.Count} deposits");
        Assert.Empty(workload.CorruptedReads);
        await AssertEveryDepositIsIntactAsync(workload);

        // Leave the database as the other tests expect it: B streaming from A again.
        var rejoinB = await system.Gateway.Admin.PostAsJsonAsync("/admin/database/rejoin", new { site = "B" });
        Assert.Equal(HttpStatusCode.OK, rejoinB.StatusCode);
        await WaitForReplicaAsync();
    }

    private async Task<SiteSwitchReport> SwitchAsync(string path, object body)
    {
        using var response = await system.Gateway.Admin.PostAsJsonAsync(path, body);
        var report = await response.Content.ReadFromJsonAsync<SiteSwitchReport>(AdminRequests.Json);
        Assert.True(response.StatusCode == HttpStatusCode.OK, report?.Summary);
        return report!;
    }

    private async Task WaitForReplicaAsync()
    {
        var giveUpAt = DateTime.UtcNow.AddSeconds(30);
        while ((await system.Gateway.StatusAsync()).Database.Read.Action != "Forward")
        {
            Assert.True(DateTime.UtcNow < giveUpAt, "the other node did not become a readable standby");
            await Task.Delay(100);
        }
    }

    /// <summary>Read back through the gateway: this system is shared with other tests, so the checker's "unexpected" would count their deposits.</summary>
    private async Task AssertEveryDepositIsIntactAsync(DepositWorkload workload)
    {
        foreach (var deposit in workload.Acknowledged)
        {
            var bytes = await system.Gateway.Public.GetByteArrayAsync($"/deposits/{deposit.Id}/content");
            Assert.Equal(deposit.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }
}
