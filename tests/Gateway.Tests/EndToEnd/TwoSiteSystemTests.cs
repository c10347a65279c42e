using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gateway.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>The issue's end-to-end checks, against real PostgreSQL, real broker processes, real directories and links.</summary>
[Integration]
[Collection(TwoSiteSystemCollection.Name)]
public sealed class TwoSiteSystemTests(TwoSiteSystem system, ITestOutputHelper output) : IAsyncLifetime
{
    private sealed record Deposit(Guid Id, string Name, long Size, string Sha256, string ServedBy);

    private HttpClient Public => system.Gateway.Public;

    public Task InitializeAsync() => system.RestoreAllInstancesAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<(Deposit Deposit, byte[] Content)> DepositAsync(int size)
    {
        var content = RandomNumberGenerator.GetBytes(size);
        using var response = await Public.PostAsync($"/deposits?name=file-{Guid.NewGuid():N}", new ByteArrayContent(content));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"deposit failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return ((await response.Content.ReadFromJsonAsync<Deposit>())!, content);
    }

    [Fact]
    public async Task Deposits_land_on_site_A_read_back_from_every_instance_and_reach_the_standby_and_both_sans()
    {
        var deposits = new List<(Deposit Deposit, byte[] Content)>();
        for (var i = 0; i < 200; i++)
        {
            deposits.Add(await DepositAsync(512 + i * 16));
        }

        Assert.All(deposits, d => Assert.Contains(d.Deposit.ServedBy, new[] { "a1", "a2" }));

        var readers = new HashSet<string>();
        foreach (var (deposit, content) in deposits)
        {
            using var response = await Public.GetAsync($"/deposits/{deposit.Id}/content");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Assert.Equal(deposit.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            readers.Add(response.Headers.GetValues("X-Served-By").Single());
        }

        Assert.Equal(["a1", "a2", "b1", "b2"], readers.Order());

        var ids = deposits.Select(d => d.Deposit.Id).ToArray();
        var replicatedAfter = await WaitUntilOnStandbyAsync(ids, TimeSpan.FromSeconds(5));
        output.WriteLine($"all {ids.Length} rows visible on PG B through the read endpoint {replicatedAfter.TotalMilliseconds:0} ms after the last read-back");

        var sanA = Path.Combine(system.Settings.SanA, "deposits");
        Assert.All(deposits, d => Assert.Equal(d.Content.Length, new FileInfo(Path.Combine(sanA, d.Deposit.Id.ToString())).Length));
        // SAN B is a replica: every file arrives there whole, copied by the gateway's filestore replication.
        var sanB = Path.Combine(system.Settings.SanB, "deposits");
        var giveUpAt = DateTime.UtcNow.AddSeconds(30);
        while (deposits.Any(d => new FileInfo(Path.Combine(sanB, d.Deposit.Id.ToString())) is not { Exists: true } file || file.Length != d.Content.Length))
        {
            Assert.True(DateTime.UtcNow < giveUpAt, "not every deposit reached SAN B within 30 s");
            await Task.Delay(50);
        }
    }

    private async Task<TimeSpan> WaitUntilOnStandbyAsync(Guid[] ids, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        await using var standby = new NpgsqlConnection(TwoSiteSystem.ThroughGateway(system.Settings.PgReadPort));
        await standby.OpenAsync();
        while (true)
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM deposits WHERE id = ANY(@ids)", standby);
            command.Parameters.AddWithValue("ids", ids);
            if ((long)(await command.ExecuteScalarAsync())! == ids.Length)
            {
                return clock.Elapsed;
            }

            Assert.True(clock.Elapsed < limit, $"rows not replicated to the standby within {limit}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_killed_instance_under_read_load_costs_no_failed_read_and_rejoins_after_restart()
    {
        var (deposit, _) = await DepositAsync(1024);
        var failures = new ConcurrentQueue<string>();
        var reads = 0;
        using var stopLoad = new CancellationTokenSource();
        var load = ReadAtFixedRateAsync(deposit.Id, perSecond: 50, failures, () => Interlocked.Increment(ref reads), stopLoad.Token);

        await Task.Delay(1000);
        var victim = system.Instances["a2"];
        victim.Kill();
        var outAfter = await system.Gateway.WaitForHealthAsync("a2", "Unhealthy", TimeSpan.FromSeconds(10));
        await Task.Delay(1000);
        victim.Launch();
        var backAfter = await system.Gateway.WaitForHealthAsync("a2", "Healthy", TimeSpan.FromSeconds(30));
        await Task.Delay(1000);
        await stopLoad.CancelAsync();
        await load;

        output.WriteLine($"{reads} reads at 50/s, {failures.Count} failed; a2 out of rotation {outAfter.TotalMilliseconds:0} ms after kill -9, back {backAfter.TotalMilliseconds:0} ms after restart (includes process start-up)");
        Assert.True(failures.IsEmpty, string.Join("; ", failures.Take(5)));
        Assert.True(reads > 100, $"only {reads} reads ran");
        Assert.True(outAfter < TimeSpan.FromSeconds(2), $"a2 left rotation only after {outAfter}");
    }

    private async Task ReadAtFixedRateAsync(Guid id, int perSecond, ConcurrentQueue<string> failures, Action counted, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / perSecond));
        var inFlight = new List<Task>();
        while (await WaitOrStopped(timer, stop))
        {
            inFlight.Add(ReadOnceAsync(id, failures, counted));
        }

        await Task.WhenAll(inFlight);
    }

    private static async Task<bool> WaitOrStopped(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ReadOnceAsync(Guid id, ConcurrentQueue<string> failures, Action counted)
    {
        counted();
        try
        {
            using var response = await Public.GetAsync($"/deposits/{id}");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                failures.Enqueue($"{(int)response.StatusCode} from {string.Join(",", response.Headers.TryGetValues("X-Served-By", out var by) ? by : [])}");
            }
        }
        catch (HttpRequestException e)
        {
            failures.Enqueue(e.Message);
        }
    }

    [Fact]
    public async Task With_every_site_A_instance_down_deposits_keep_succeeding_through_site_B()
    {
        system.Instances["a1"].Kill();
        system.Instances["a2"].Kill();
        await system.Gateway.WaitForHealthAsync("a1", "Unhealthy", TimeSpan.FromSeconds(10));
        await system.Gateway.WaitForHealthAsync("a2", "Unhealthy", TimeSpan.FromSeconds(10));

        var servedBy = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            servedBy.Add((await DepositAsync(256)).Deposit.ServedBy);
        }

        Assert.All(servedBy, id => Assert.Contains(id, new[] { "b1", "b2" }));
    }

    [Theory]
    [InlineData(true, "f")]
    [InlineData(false, "t")]
    public async Task Psql_through_the_write_endpoint_reaches_the_primary_and_through_the_read_endpoint_the_standby(bool writeEndpoint, string inRecovery)
    {
        var port = writeEndpoint ? system.Settings.PgWritePort : system.Settings.PgReadPort;
        var answer = await ProcessRunner.RunAsync("psql", ["-h", "127.0.0.1", "-p", port.ToString(), "-U", "postgres", "-d", "broker", "-tAc", "select pg_is_in_recovery()"]);
        Assert.Equal(inRecovery, answer.Trim());
    }
}
