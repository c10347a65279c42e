using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Audit;
using Gateway.Coordinator.Switching;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>The two-site system with automatic failover on, as shipped, and a short catch-up bound so that a refusal comes quickly.</summary>
public sealed class FailbackSystem : TwoSiteSystem
{
    protected override void Configure(Dictionary<string, string?> values)
    {
        values["Gateway:Coordinator:AutoFailover"] = "true";
        values["Gateway:Coordinator:RecoverAfter"] = "00:00:02";
        values["Gateway:Coordinator:CatchUpTimeout"] = "00:00:30";
        // Commits wait for the standby while it streams: the unplanned failover loses no acknowledged row (asynchronous
        // replication may, and says so in its report), so every deposit must survive what follows.
        values["Gateway:Database:SynchronousMode"] = "Degrade";
    }
}

/// <summary>
/// The way back after a real outage must never lose a file. Site A dies whole under deposit load; the gateway fails
/// over to B; then operators do what they do: bring A's processes back, rejoin it, switch over, fail over, fail back,
/// in the order the issue's operator did and in generated orders. After every call: every acknowledged deposit has
/// its row and its file with the right SHA-256 and reads back through the gateway, at most one node takes writes,
/// and a call that cannot proceed safely was refused before anything changed. Then a gateway restart, and again.
/// </summary>
[Integration]
public sealed class FailbackPathTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private enum Operation
    {
        /// <summary>What deploy/demo.sh up does: restart the brokers that are down; start a database node only if it is the designated primary or a standby.</summary>
        Up,

        /// <summary>What the issue's operator saw: the old primary's PostgreSQL started as it was, a second primary the gateway must fence.</summary>
        StartOldPrimaryAsItWas,
        RejoinOther,
        SwitchoverToOther,
        FailoverToOther,
        Failback,
    }

    /// <summary>The issue's path, in its order: up (the old primary as it was), rejoin, switchover back, then failover and failback the other way.</summary>
    [Fact]
    public Task The_path_that_lost_deposits_now_keeps_every_one_of_them() =>
        RunAsync([Operation.StartOldPrimaryAsItWas, Operation.Up, Operation.RejoinOther, Operation.SwitchoverToOther, Operation.FailoverToOther, Operation.Failback, Operation.SwitchoverToOther]);

    /// <summary>
    /// Orders a test generates: FAILBACK_SEQUENCE_SEED replays one (the seed is in the output), FAILBACK_SEQUENCES runs
    /// more (bench/failover runs longer ones).
    /// </summary>
    [Fact]
    public async Task Generated_orders_of_operator_calls_after_an_unplanned_failover_keep_every_acknowledged_deposit()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("FAILBACK_SEQUENCES"), out var n) ? n : 1;
        var firstSeed = int.TryParse(Environment.GetEnvironmentVariable("FAILBACK_SEQUENCE_SEED"), out var s) ? s : Random.Shared.Next();
        for (var seed = firstSeed; seed < firstSeed + count; seed++)
        {
            var random = new Random(seed);
            var operations = Enumerable.Range(0, 6).Select(_ => (Operation)random.Next(Enum.GetValues<Operation>().Length)).ToList();
            output.WriteLine($"seed {seed} (replay: FAILBACK_SEQUENCE_SEED={seed}): {string.Join(", ", operations)}");
            await RunAsync(operations);
        }
    }

    private async Task RunAsync(IReadOnlyList<Operation> operations)
    {
        await using var system = new FailbackSystem();
        await system.InitializeAsync();
        using var publicClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{system.Settings.PublicPort}"), Timeout = TimeSpan.FromSeconds(20) };
        await using var workload = new DepositWorkload(publicClient, "failback", depositsPerSecond: 15, readsPerSecond: 5);
        workload.Start();
        await Task.Delay(2000);

        system.KillSite("A");
        await system.Gateway.WaitForAsync(s => s is { ActiveSite: "B", Switching: false }, "failed over to B by itself", Settle);
        await Task.Delay(1000);
        await AssertIntactAsync(system, workload, "after the unplanned failover");

        foreach (var operation in operations)
        {
            var before = await system.Gateway.StatusAsync();
            var (accepted, summary) = await ApplyAsync(system, operation, before);
            output.WriteLine($"{operation}: {(accepted ? "done" : "REFUSED")}: {summary}");
            if (!accepted && summary.Contains(" is running (since ", StringComparison.Ordinal))
            {
                // Refused because another operation runs (the coordinator's own failover, once the other site has
                // been healthy long enough): that one changes the state, and the refusal names it.
                await system.Gateway.WaitForAsync(s => !s.Switching, "the running operation ended", Settle);
            }
            else if (!accepted)
            {
                var after = await system.Gateway.StatusAsync();
                Assert.True((before.ActiveSite, before.Database.Primary, before.Switching) == (after.ActiveSite, after.Database.Primary, after.Switching),
                    $"{operation} was refused but changed the state: {before.ActiveSite}/{before.Database.Primary} -> {after.ActiveSite}/{after.Database.Primary}");
                Assert.False(string.IsNullOrWhiteSpace(summary), $"{operation} was refused without a sentence");
            }

            await Task.Delay(1000);
            await AssertIntactAsync(system, workload, $"after {operation}");
        }

        await workload.StopAsync();
        await system.RestartGatewayAsync();
        await system.Gateway.WaitForAsync(s => !s.Switching && !s.Writes.Held && s.Instances.Any(i => i.Health == "Healthy"), "settled after the restart", Settle);
        await Task.Delay(2000);
        await AssertIntactAsync(system, workload, "after a gateway restart");

        // The restart forgot nothing: the automatic failover is in the history and in the audit log.
        var history = await system.Gateway.Admin.GetFromJsonAsync<List<SiteSwitchReport>>("/admin/history", AdminRequests.Json);
        Assert.Contains(history!, report => report is { Kind: SwitchKind.Failover, To: "B", Succeeded: true } && report.Summary.Length > 0);
        var audit = await system.Gateway.Admin.GetFromJsonAsync<List<AuditEntry>>("/admin/audit?limit=10000", AdminRequests.Json);
        Assert.Contains(audit!, entry => entry is { Caller: "coordinator", Path: "/admin/failover", Status: 200 });
    }

    private async Task<(bool Accepted, string Summary)> ApplyAsync(FailbackSystem system, Operation operation, GatewayStatus status)
    {
        var active = status.ActiveSite;
        var other = active == "A" ? "B" : "A";
        switch (operation)
        {
            case Operation.Up:
                return (true, await system.UpAsync(status.Database.Primary));
            case Operation.StartOldPrimaryAsItWas:
                var node = system.DatabaseOf(other);
                if (node.IsRunning)
                {
                    return (true, $"site {other}'s node already runs");
                }

                await node.StartAsync();
                // The gateway must fence a second primary before it could take a write: at most one writable node, always.
                await Task.Delay(1500);
                return (true, $"started site {other}'s node as it was");
            case Operation.RejoinOther:
                return await PostAsync(system, "/admin/database/rejoin", new { site = other });
            case Operation.SwitchoverToOther:
                return await PostAsync(system, "/admin/switchover", new { to = other });
            case Operation.FailoverToOther:
                return await PostAsync(system, "/admin/failover", new { to = other });
            default:
                return await PostAsync(system, "/admin/failback", new { });
        }
    }

    private static async Task<(bool, string)> PostAsync(FailbackSystem system, string path, object body)
    {
        using var response = await system.Gateway.Admin.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(text);
        var summary = json.RootElement.TryGetProperty("summary", out var s) ? s.GetString()! : json.RootElement.GetProperty("error").GetString()!;
        return (response.StatusCode == HttpStatusCode.OK, summary);
    }

    /// <summary>Rows, files and SHA-256 of every acknowledged deposit where the gateway routes, one writable node, and every deposit read back through the gateway.</summary>
    private async Task AssertIntactAsync(FailbackSystem system, DepositWorkload workload, string when)
    {
        var report = await ConsistencyChecker.CheckAsync(workload, system.Postgres, system.Settings, exceptFenced: true, whileRunning: true);
        output.WriteLine($"{when}: {report}");
        Assert.True(report.IsClean, $"{when}: {report}; {report.Details()}");
        await DepositReadback.AssertAllReadableAsync(system.Gateway.Public, workload.Acknowledged.ToList(), when);
    }
}

/// <summary>Every acknowledged deposit read back through the gateway's public port: its content there, with the SHA-256 it was sent with.</summary>
public static class DepositReadback
{
    public static async Task AssertAllReadableAsync(HttpClient gateway, IEnumerable<Acknowledgment> acknowledged, string when)
    {
        var failures = new List<string>();
        foreach (var deposit in acknowledged)
        {
            using var response = await gateway.GetAsync($"/deposits/{deposit.Id}/content");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                failures.Add($"{deposit.Id} ({deposit.Name}): {(int)response.StatusCode}");
                continue;
            }

            var sha256 = Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync()));
            if (sha256 != deposit.Sha256)
            {
                failures.Add($"{deposit.Id} ({deposit.Name}): sha256 {sha256}, sent {deposit.Sha256}");
            }
        }

        Assert.True(failures.Count == 0, $"{when}: {failures.Count} acknowledged deposit(s) do not read back: {string.Join("; ", failures.Take(10))}");
    }
}
