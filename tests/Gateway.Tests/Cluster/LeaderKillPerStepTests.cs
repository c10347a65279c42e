using System.Diagnostics;
using System.Text;
using Gateway.Coordinator.Switching;
using Gateway.Testing;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.Cluster;

/// <summary>
/// kill -9 of the leading gateway just before each step of a site switchover, one step per round on one cluster, the
/// switch going back and forth: the other gateway leads and finishes what was started, and after every round exactly
/// one writable primary is reachable through either gateway, the link's SAN holds every acknowledged file, and the old
/// primary streams from the new one (so the next round can switch back).
/// </summary>
[Integration]
public sealed class LeaderKillPerStepTests(ITestOutputHelper output)
{
    /// <summary>The steps a kill lands before: every step of a switchover but the whole-switch "switch".</summary>
    public static readonly IReadOnlyList<string> Steps = SwitchSteps.OfSiteSwitch.Where(step => step != SwitchSteps.Switch).ToList();

    [EtcdFact]
    public async Task Kill_9_of_the_leader_before_each_step_of_a_switchover_the_other_gateway_finishes_it_and_nothing_is_lost()
    {
        var root = "";
        await using var system = await ClusterSystem.StartAsync(settings =>
        {
            root = settings.Root;
            // Each step's Before hook stops the gateway that runs it only when the test has armed that step: the marker is
            // taken with an atomic rename, so the gateway that finishes the switch passes the same hook at once.
            for (var i = 0; i < Steps.Count; i++)
            {
                settings.Values[$"Gateway:Coordinator:Hooks:{i}:Step"] = Steps[i];
                settings.Values[$"Gateway:Coordinator:Hooks:{i}:When"] = "Before";
                settings.Values[$"Gateway:Coordinator:Hooks:{i}:Command"] = $"mv '{root}/arm-{Steps[i]}' '{root}/at-{Steps[i]}' 2>/dev/null && sleep 30; true";
                settings.Values[$"Gateway:Coordinator:Hooks:{i}:Timeout"] = "00:00:40";
            }
        }, brokersThroughBoth: true);
        await system.Gateways[0].WaitForAsync(s => s.Filestore is { InitialSync.Completed: true }, "the filestore's initial sync done", TimeSpan.FromSeconds(30));

        var results = new List<string>();
        foreach (var step in Steps)
        {
            var leaderIndex = await LeaderIndexAsync(system);
            var (leader, survivor) = (system.Gateways[leaderIndex], system.Gateways[1 - leaderIndex]);
            // The previous round's rejoin (and the file replication it starts towards the old site) has finished.
            var before = await leader.WaitForAsync(s => s.Cluster is { Role: "Lead", WritesAllowed: true } && s.CurrentOperation is null
                    && s.Filestore is { InitialSync.Completed: true } files && files.Direction.SourceSite == s.ActiveSite,
                "leading and idle, with the filestore replicating from the active site", TimeSpan.FromSeconds(60));
            var to = before.ActiveSite == "A" ? "B" : "A";
            await using var workload = new DepositWorkload(survivor.Public, $"kill-{step}", depositsPerSecond: 30, readsPerSecond: 5);
            workload.Start();
            await Task.Delay(500);

            File.WriteAllText(Path.Combine(root, $"arm-{step}"), "");
            Task<HttpResponseMessage> Ask() => leader.Admin.PostAsync("/admin/switchover", new StringContent($$"""{"to":"{{to}}"}""", Encoding.UTF8, "application/json"));
            var switchover = Ask();
            var reached = Stopwatch.StartNew();
            var refusedForNoLeader = 0;
            while (!File.Exists(Path.Combine(root, $"at-{step}")))
            {
                if (switchover.IsCompleted)
                {
                    using var answer = await switchover;
                    var body = await answer.Content.ReadAsStringAsync();
                    // On a loaded machine a renewal can come late: the leader fences for a moment and refuses state changes
                    // (503, no leader), as it must. An operator asks again; so does the test, a few times.
                    Assert.True(answer.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && body.Contains("no leader", StringComparison.Ordinal) && ++refusedForNoLeader <= 3,
                        $"the switchover to {to} ended before '{step}': {(int)answer.StatusCode} {body}");
                    output.WriteLine($"{step}: the switchover was refused for a moment without a leader ({body}); asked again");
                    await leader.WaitForAsync(s => s.Cluster is { Role: "Lead", WritesAllowed: true }, "leading again", TimeSpan.FromSeconds(15));
                    switchover = Ask();
                }

                Assert.True(reached.Elapsed < TimeSpan.FromSeconds(60), $"the switchover to {to} did not reach '{step}' within 60 s\n{leader.LogTail()}");
                await Task.Delay(50);
            }

            // The follower shows the leader's operation as the leader publishes it in etcd.
            var leaderId = system.Settings[leaderIndex].Values["Gateway:Cluster:GatewayId"];
            var seen = await survivor.WaitForAsync(s => s.CurrentOperation is { RunBy: not null } operation && operation.RunBy == leaderId,
                "the leader's operation published", TimeSpan.FromSeconds(10));
            Assert.Equal($"switchover to {to}", seen.CurrentOperation!.Description);

            var killedAt = workload.Now;
            leader.Kill();
            await Assert.ThrowsAnyAsync<Exception>(() => switchover);
            var survivorId = system.Settings[1 - leaderIndex].Values["Gateway:Cluster:GatewayId"];

            // Before the epoch is persisted nothing has changed: the operator's call failed and the old site stays.
            var expected = step == SwitchSteps.PersistEpoch ? before.ActiveSite : to;
            var finished = await survivor.WaitForAsync(s => s is { Switching: false } && s.ActiveSite == expected && s.Cluster!.Leader == survivorId,
                $"leading with site {expected} active", TimeSpan.FromSeconds(60));
            var finishedAfter = workload.Now - killedAt;
            if (step != SwitchSteps.PersistEpoch)
            {
                // It resumed knowing where its predecessor stopped.
                Assert.Contains($"left unfinished by a gateway restart or a lost leader (switchover to {to} run by {leaderId}", survivor.Output);
            }

            var primary = expected == "A" ? system.Postgres.Primary : system.Postgres.Standby;
            var standby = expected == "A" ? system.Postgres.Standby : system.Postgres.Primary;
            // The old primary's rejoin has run to its end (it may stream for a moment before the rejoin restarts it).
            var rejoining = Stopwatch.StartNew();
            await survivor.WaitForAsync(s => s.AwaitingRejoin is null && s.CurrentOperation is null, "the old primary rejoined", TimeSpan.FromSeconds(60));
            await WaitForStandbyAsync(primary, TimeSpan.FromSeconds(60));
            var streaming = rejoining.Elapsed;
            await workload.StopAsync();

            // Back to two gateways for the next round: the killed one follows the survivor.
            system.Gateways[leaderIndex].Start();
            await system.Gateways[leaderIndex].WaitForAsync(s => s.Cluster is { Role: "Follow", WritesAllowed: true } && s.Epoch == finished.Epoch,
                "following after its restart", TimeSpan.FromSeconds(30));

            var report = await ConsistencyChecker.CheckAsync(workload, system.Postgres, system.Settings[0], exceptFenced: true);
            var line = $"{step}: gw {survivorId} finished with site {expected} active (epoch {finished.Epoch}) {finishedAfter.TotalMilliseconds:0} ms after the kill, "
                + $"old primary rejoined and streaming {streaming.TotalMilliseconds:0} ms after that; {report} (its 'unexpected' are the earlier rounds' deposits)";
            results.Add(line);
            output.WriteLine(line);

            Assert.Equal(expected, await SiteInvariants.SingleWritableNodeAsync(system.Postgres, exceptFenced: true));
            foreach (var settings in system.Settings)
            {
                Assert.Equal((primary.Port, false), await WriteEndpointLeadsToAsync(settings.PgWritePort));
            }

            var san = expected == "A" ? system.Settings[0].SanA : system.Settings[0].SanB;
            Assert.Equal(Path.GetFullPath(san), new FileInfo(system.Settings[0].FilestoreLink).ResolveLinkTarget(returnFinalTarget: true)!.FullName);
            Assert.True(report.Lost.Count == 0 && report.Corrupted.Count == 0, $"{step}: {report.Details()}");
            Assert.True(await standby.ScalarAsync<bool>("SELECT pg_is_in_recovery()"), $"{step}: the old primary is not a standby");
        }

        output.WriteLine(string.Join('\n', results));
    }

    /// <summary>
    /// Where a gateway's write endpoint leads. A gateway whose renewal came late on a loaded machine refuses writes
    /// (57P03) until it has renewed and re-read the epoch: it then reaches no primary at all, which the invariant allows;
    /// asked again for up to 20 s, so that the check is of where it routes once it routes.
    /// </summary>
    private async Task<(int ServerPort, bool InRecovery)> WriteEndpointLeadsToAsync(int port)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await SiteInvariants.WriteEndpointLeadsToAsync(port);
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == "57P03" && clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                output.WriteLine($"write endpoint :{port} refused for a moment ({e.MessageText}); asked again");
                await Task.Delay(250);
            }
        }
    }

    private static async Task<int> LeaderIndexAsync(ClusterSystem system)
    {
        var status = await system.Gateways[0].WaitForAsync(s => s.Cluster?.Leader is not null, "a leader", TimeSpan.FromSeconds(30));
        return status.Cluster!.Leader == system.Settings[0].Values["Gateway:Cluster:GatewayId"] ? 0 : 1;
    }

    /// <summary>Waits until <paramref name="primary"/> has a standby streaming from it; how long that took.</summary>
    private static async Task<TimeSpan> WaitForStandbyAsync(PostgresNode primary, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await primary.ScalarAsync<long>("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") > 0)
                {
                    return clock.Elapsed;
                }
            }
            catch (Npgsql.NpgsqlException)
            {
                // Still being promoted or restarted: ask again.
            }

            Assert.True(clock.Elapsed < within, $"no standby streams from {primary.Name} after {within.TotalSeconds:0} s");
            await Task.Delay(200);
        }
    }
}
