using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gateway.Coordinator.Switching;
using Gateway.Testing;
using Gateway.Tests.EndToEnd;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.Coordinator.Supervision;

/// <summary>
/// The two-site system with the gateway as a process of its own, so that it can be killed with SIGKILL: a real
/// PostgreSQL pair (restored from a snapshot before each case), SAN A and B with the filestore link, and one broker
/// per site that keeps running across gateway restarts (it reaches the database through the gateway's fixed ports).
/// </summary>
public sealed class KillableGatewaySystem : IAsyncLifetime
{
    public PostgresPair Postgres { get; } = new();
    public GatewaySettings Settings { get; private set; } = null!;
    public List<BrokerProcess> Brokers { get; } = [];
    public string HookDirectory => Path.Combine(Settings.Root, "hook");

    public async Task InitializeAsync()
    {
        await Postgres.InitializeAsync();
        await Postgres.Primary.ExecuteAsync("CREATE DATABASE broker");
        var (a1, b1) = (FreePort.Next(), FreePort.Next());
        Settings = new GatewaySettings([$"http://127.0.0.1:{a1}"], [$"http://127.0.0.1:{b1}"], Postgres.Primary.Port, Postgres.Standby.Port);
        Settings.Values["Gateway:Sites:0:Database:DataDirectory"] = Postgres.Primary.DataDirectory;
        Settings.Values["Gateway:Sites:1:Database:DataDirectory"] = Postgres.Standby.DataDirectory;
        Settings.Values["Gateway:Database:BinDirectory"] = PostgresTools.BinDirectory;
        // Only the switch under test moves anything: no automatic failover when a restart makes a site look down.
        Settings.Values["Gateway:Coordinator:AutoFailover"] = "false";
        Settings.Values["Gateway:Database:AutoFailover"] = "false";
        Directory.CreateDirectory(HookDirectory);

        // The brokers create their schema at start, through a gateway; the snapshot then keeps it for every case.
        await using (var gateway = StartGateway("setup"))
        {
            await gateway.StatusAsync();
            var through = TwoSiteSystem.ThroughGateway(Settings.PgWritePort);
            Brokers.Add(new BrokerProcess("a1", a1, through, Settings.FilestoreLink));
            Brokers.Add(new BrokerProcess("b1", b1, through, Settings.FilestoreLink));
            await Task.WhenAll(Brokers.Select(broker => broker.StartAsync()));
        }

        await Postgres.SnapshotAsync();
    }

    public GatewayProcess StartGateway(string name)
    {
        var gateway = new GatewayProcess(Settings, Settings.WriteJsonFile(), Path.Combine(Settings.Root, $"gateway-{name}.log"));
        gateway.Start();
        return gateway;
    }

    /// <summary>Back to the start: database pair from the snapshot, empty SANs, the link on SAN A, no persisted state, no hook marks.</summary>
    public async Task ResetAsync()
    {
        await Postgres.RestoreSnapshotAsync();
        foreach (var directory in new[] { Settings.SanA, Settings.SanB, Settings.StateDirectory, HookDirectory })
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            Directory.CreateDirectory(directory);
        }

        File.Delete(Settings.FilestoreLink);
        File.CreateSymbolicLink(Settings.FilestoreLink, Settings.SanA);
    }

    public async Task DisposeAsync()
    {
        foreach (var broker in Brokers)
        {
            await broker.DisposeAsync();
        }

        await Postgres.DisposeAsync();
        Settings?.Dispose();
    }
}

/// <summary>
/// Invariant 7 of docs/architecture.md: the gateway killed (SIGKILL) at each step of a planned switchover A -> B in turn. A
/// Before hook on the step blocks (once) and signals that it runs, which makes the kill point exact. After a restart
/// on the same configuration and state the gateway must settle by itself, with exactly one writable database node,
/// the write endpoint leading to it, the filestore link on that site's SAN holding every file, and deposits working.
/// </summary>
[Integration]
public sealed class InterruptedSwitchTests(KillableGatewaySystem system, ITestOutputHelper output) : IClassFixture<KillableGatewaySystem>
{
    private static readonly TimeSpan SettleWithin = TimeSpan.FromSeconds(60);

    public static TheoryData<string, string> KillPoints() => new()
    {
        // Before the epoch is persisted nothing has changed: the restarted gateway stays on A.
        { SwitchSteps.Switch, "A" },
        { SwitchSteps.PersistEpoch, "A" },
        // From then on the persisted state names B: the restarted gateway finishes the switch.
        { SwitchSteps.HoldWrites, "B" },
        { SwitchSteps.DrainWrites, "B" },
        { SwitchSteps.MoveDatabase, "B" },
        { SwitchSteps.FinishFilestoreReplication, "B" },
        { SwitchSteps.FlipFilestoreLinks, "B" },
        { SwitchSteps.RouteWrites, "B" },
        { SwitchSteps.ReplicateBack, "B" },
    };

    [Theory]
    [MemberData(nameof(KillPoints))]
    public async Task A_gateway_killed_before_a_step_of_a_switchover_settles_after_restart_with_one_writable_database_and_a_complete_filestore(string step, string expectedSite)
    {
        var clock = Stopwatch.StartNew();
        await system.ResetAsync();
        var reached = Path.Combine(system.HookDirectory, "reached");
        var hookPid = Path.Combine(system.HookDirectory, "hook.pid");
        system.Settings.Values["Gateway:Coordinator:Hooks:0:Step"] = step;
        system.Settings.Values["Gateway:Coordinator:Hooks:0:When"] = "Before";
        system.Settings.Values["Gateway:Coordinator:Hooks:0:Timeout"] = "00:05:00";
        // Blocks the first time only (mkdir is atomic): the resumed switch after the restart runs the same hook and must pass.
        system.Settings.Values["Gateway:Coordinator:Hooks:0:Command"] =
            $"if mkdir {system.HookDirectory}/blocked 2>/dev/null; then echo $$ > {hookPid}; touch {reached}; exec sleep 300; fi";

        var deposits = new Dictionary<Guid, string>();
        await using (var first = system.StartGateway($"{step}-1"))
        {
            await WaitUntilReadyAsync(first);
            await DepositAsync(first, deposits, 3);

            var switchover = first.Admin.PostAsJsonAsync("/admin/switchover", new { to = "B" });
            await WaitForFileAsync(reached, first);
            first.Kill();
            KillHook(hookPid);
            await Assert.ThrowsAnyAsync<Exception>(() => switchover);
        }

        await using var second = system.StartGateway($"{step}-2");
        // Settled, and the restarted gateway's probes have found the instances again (before, it routes nothing).
        var settled = await second.WaitForAsync(
            s => !s.Switching && !s.Writes.Held && s.Database.Primary is not null && s.Instances.All(i => i.Health == "Healthy"), "settled", SettleWithin);
        output.WriteLine($"{step}: settled on {settled.ActiveSite} (epoch {settled.Epoch}) {clock.Elapsed.TotalSeconds:0.0} s after the case began");

        var writable = await SiteInvariants.SingleWritableNodeAsync(system.Postgres);
        Assert.Equal(expectedSite, writable);
        Assert.Equal((writable, writable), (settled.ActiveSite, settled.Database.Primary));
        var node = writable == "A" ? system.Postgres.Primary : system.Postgres.Standby;
        Assert.Equal((node.Port, false), await SiteInvariants.WriteEndpointLeadsToAsync(system.Settings.PgWritePort));

        var (san, otherSan) = writable == "A" ? (system.Settings.SanA, system.Settings.SanB) : (system.Settings.SanB, system.Settings.SanA);
        Assert.Equal(san, new FileInfo(system.Settings.FilestoreLink).LinkTarget);
        SiteInvariants.AssertCompleteReplica(san, otherSan);

        await DepositAsync(second, deposits, 2);
        foreach (var (id, sha256) in deposits)
        {
            var content = await second.Public.GetByteArrayAsync($"/deposits/{id}/content");
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(content)));
        }
    }

    /// <summary>Both brokers healthy behind the gateway, B streaming from A, the filestore replicating A -> B.</summary>
    private static Task WaitUntilReadyAsync(GatewayProcess gateway) =>
        gateway.WaitForAsync(
            s => s.Instances.All(i => i.Health == "Healthy") && s.Database.Read.Action == "Forward" && s.Filestore is { PendingFiles: 0 },
            "ready (instances healthy, standby streaming, filestore replicating)", SettleWithin);

    private static async Task DepositAsync(GatewayProcess gateway, Dictionary<Guid, string> deposits, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var content = RandomNumberGenerator.GetBytes(4096);
            using var response = await gateway.Public.PostAsync($"/deposits?name=kill-{Guid.NewGuid():N}", new ByteArrayContent(content));
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"deposit: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{gateway.LogTail()}");
            var receipt = (await response.Content.ReadFromJsonAsync<Receipt>())!;
            deposits[receipt.Id] = Convert.ToHexStringLower(SHA256.HashData(content));
        }
    }

    private static async Task WaitForFileAsync(string path, GatewayProcess gateway)
    {
        var giveUpAt = DateTime.UtcNow + SettleWithin;
        while (!File.Exists(path))
        {
            Assert.True(DateTime.UtcNow < giveUpAt && gateway.IsRunning, $"the blocking hook never ran\n{gateway.LogTail()}");
            await Task.Delay(50);
        }
    }

    /// <summary>A killed gateway leaves its hook running (it has a session of its own); end it as the gateway's timeout would have.</summary>
    private static void KillHook(string pidFile)
    {
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
        {
            try
            {
                Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }
    }

    private sealed record Receipt(Guid Id);
}
