using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Switching;
using Gateway.Database.Failover;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>A planned switchover A -> B and back under mixed load, on the whole system: no client request may fail.</summary>
[Collection(TwoSiteSystemCollection.Name)]
public sealed class SiteSwitchoverTests(TwoSiteSystem system, ITestOutputHelper output) : IAsyncLifetime
{
    private sealed record Receipt(Guid Id, string Sha256, string ServedBy);

    private readonly ConcurrentDictionary<Guid, string> _deposited = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private int _requests;

    public Task InitializeAsync() => system.RestoreAllInstancesAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_planned_switchover_to_B_and_back_under_mixed_load_fails_no_request_and_keeps_every_deposit()
    {
        using var stop = new CancellationTokenSource();
        var load = RunMixedLoadAsync(perSecond: 60, stop.Token);
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
        await stop.CancelAsync();
        await load;

        output.WriteLine($"{_requests} requests ({_deposited.Count} deposits) at 60/s, {_failures.Count} failed");
        foreach (var report in new[] { toB, toA })
        {
            output.WriteLine(report.Summary);
            foreach (var step in report.Steps)
            {
                output.WriteLine($"  {step.Step}: {step.Duration.TotalMilliseconds:0} ms: {step.Outcome}");
            }
        }

        Assert.True(_failures.IsEmpty, string.Join("; ", _failures.Take(10)));
        Assert.True(_deposited.Count > 50, $"only {_deposited.Count} deposits");
        await AssertEveryDepositIsIntactAsync();

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

    private async Task RunMixedLoadAsync(int perSecond, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / perSecond));
        var inFlight = new List<Task>();
        var tick = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                inFlight.Add(tick++ % 3 == 0 || _deposited.IsEmpty ? DepositAsync() : ReadBackAsync());
            }
        }
        catch (OperationCanceledException)
        {
            // The test's stop.
        }

        await Task.WhenAll(inFlight);
    }

    private async Task DepositAsync()
    {
        Interlocked.Increment(ref _requests);
        var content = RandomNumberGenerator.GetBytes(2048);
        try
        {
            using var response = await system.Gateway.Public.PostAsync($"/deposits?name=switch-{Guid.NewGuid():N}", new ByteArrayContent(content));
            if (response.StatusCode != HttpStatusCode.Created)
            {
                _failures.Enqueue($"deposit: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                return;
            }

            var receipt = (await response.Content.ReadFromJsonAsync<Receipt>())!;
            _deposited[receipt.Id] = Convert.ToHexStringLower(SHA256.HashData(content));
        }
        catch (HttpRequestException e)
        {
            _failures.Enqueue($"deposit: {e.Message}");
        }
    }

    private async Task ReadBackAsync()
    {
        Interlocked.Increment(ref _requests);
        var id = _deposited.Keys.ElementAt(Random.Shared.Next(_deposited.Count));
        try
        {
            using var response = await system.Gateway.Public.GetAsync($"/deposits/{id}/content");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                _failures.Enqueue($"read {id}: {(int)response.StatusCode} from {string.Join(",", response.Headers.TryGetValues("X-Served-By", out var by) ? by : [])}");
            }
        }
        catch (HttpRequestException e)
        {
            _failures.Enqueue($"read {id}: {e.Message}");
        }
    }

    private async Task AssertEveryDepositIsIntactAsync()
    {
        foreach (var (id, sha256) in _deposited)
        {
            var bytes = await system.Gateway.Public.GetByteArrayAsync($"/deposits/{id}/content");
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }
}
