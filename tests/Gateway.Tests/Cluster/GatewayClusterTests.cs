using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Testing;
using Gateway.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace Gateway.Tests.Cluster;

/// <summary>Two real gateway processes on a real three-member etcd and a real PostgreSQL pair act as one.</summary>
[Integration]
public sealed class GatewayClusterTests(ITestOutputHelper output)
{
    [EtcdFact]
    public async Task Both_gateways_list_both_one_leads_a_followers_admin_calls_are_redirected_to_the_leader_and_the_follower_routes_by_its_drains_and_epoch()
    {
        await using var system = await ClusterSystem.StartAsync();
        var (leader, follower) = (system.Gateways[0], system.Gateways[1]);

        foreach (var gateway in system.Gateways)
        {
            var status = await gateway.StatusAsync();
            Assert.Equal("gw1", status.Cluster!.Leader);
            Assert.Equal(["gw1", "gw2"], status.Cluster.Gateways.Select(g => g.GatewayId));
            Assert.Equal([true, false], status.Cluster.Gateways.Select(g => g.Leads));
            Assert.NotNull(status.Cluster.LeaderLeaseRemainingSeconds);
            Assert.Equal("ready\n", await gateway.Admin.GetStringAsync("/readyz"));
        }

        // Each gateway publishes the epoch it routes by: both route by the shared one.
        var followerStatus = await follower.WaitForAsync(s => s.Cluster!.Gateways.All(g => g.Epoch is not null), "every epoch published", TimeSpan.FromSeconds(10));
        Assert.All(followerStatus.Cluster!.Gateways, g => Assert.Equal(followerStatus.Epoch, g.Epoch));
        Assert.Equal((await leader.StatusAsync()).Epoch, followerStatus.Epoch);

        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = follower.Admin.BaseAddress };
        noRedirects.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", system.Settings[0].AdminToken);
        const string body = """{"reason":"cluster test","for":"00:10:00"}""";
        using var redirect = await noRedirects.PostAsync("/admin/pause", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
        Assert.Equal(new Uri($"http://127.0.0.1:{system.Settings[0].AdminPort}/admin/pause"), redirect.Headers.Location);
        Assert.Null((await follower.StatusAsync()).Paused);

        // Sent again where the redirect says, with its token and body: the leader pauses.
        using var atLeader = await noRedirects.PostAsync(redirect.Headers.Location, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(atLeader.IsSuccessStatusCode, await atLeader.Content.ReadAsStringAsync());
        Assert.Equal("cluster test", (await leader.StatusAsync()).Paused?.Reason);

        // A drain sent to the follower is carried out by the leader and reaches the follower's routing through etcd.
        const string drain = """{"instance":"a1"}""";
        using var drainRedirect = await noRedirects.PostAsync("/admin/drain", new StringContent(drain, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.TemporaryRedirect, drainRedirect.StatusCode);
        using var drained = await noRedirects.PostAsync(drainRedirect.Headers.Location, new StringContent(drain, Encoding.UTF8, "application/json"));
        Assert.True(drained.IsSuccessStatusCode, await drained.Content.ReadAsStringAsync());
        await follower.WaitForAsync(s => s.Drained.Instances.Contains("a1") && s.Instances.Single(i => i.Id == "a1").Drained, "a1 drained on the follower", TimeSpan.FromSeconds(10));
        using var undrained = await noRedirects.PostAsync(redirect.Headers.Location!.ToString().Replace("/admin/pause", "/admin/undrain", StringComparison.Ordinal),
            new StringContent(drain, Encoding.UTF8, "application/json"));
        Assert.True(undrained.IsSuccessStatusCode, await undrained.Content.ReadAsStringAsync());
        await follower.WaitForAsync(s => s.Drained.Instances.Count == 0, "a1 undrained on the follower", TimeSpan.FromSeconds(10));

        // A switchover sent to the follower is run by the leader; the follower then routes by the new epoch.
        await leader.WaitForAsync(s => s.Filestore is { InitialSync.Completed: true }, "the filestore's initial sync done", TimeSpan.FromSeconds(30));
        const string switchover = """{"to":"B"}""";
        using var toLeader = await noRedirects.PostAsync("/admin/switchover", new StringContent(switchover, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.TemporaryRedirect, toLeader.StatusCode);
        using var switched = await noRedirects.PostAsync(toLeader.Headers.Location, new StringContent(switchover, Encoding.UTF8, "application/json"));
        Assert.True(switched.IsSuccessStatusCode, await switched.Content.ReadAsStringAsync());
        var answered = Stopwatch.StartNew();
        var leaderEpoch = (await leader.StatusAsync()).Epoch;
        var routed = await follower.WaitForAsync(s => s.Epoch == leaderEpoch && s is { ActiveSite: "B", Switching: false }, "routing by the leader's epoch", TimeSpan.FromSeconds(10));
        output.WriteLine($"the follower routed by epoch {routed.Epoch} {answered.ElapsedMilliseconds} ms after the leader answered the switchover (status polled every 100 ms)");
        Assert.Equal((system.Postgres.Standby.Port, false), await SiteInvariants.WriteEndpointLeadsToAsync(system.Settings[1].PgWritePort));
    }

    [EtcdFact]
    public async Task Kill_9_of_the_leader_under_load_through_the_other_gateway_loses_no_acknowledged_deposit_and_the_other_leads_within_the_lease()
    {
        await using var system = await ClusterSystem.StartAsync();
        var (leader, survivor) = (system.Gateways[0], system.Gateways[1]);
        await using var workload = new DepositWorkload(survivor.Public, "cluster-kill", depositsPerSecond: 100, readsPerSecond: 20);
        workload.Start();
        await Task.Delay(3000);

        var killedAt = workload.Now;
        var clock = Stopwatch.StartNew();
        leader.Kill();
        var led = await survivor.WaitForAsync(s => s.Cluster is { Leader: "gw2", Role: "Lead" }, "leading after the kill", TimeSpan.FromSeconds(15));
        var takeover = clock.Elapsed;
        await Task.Delay(3000);
        await workload.StopAsync();

        var pause = workload.LongestWindowWithoutWrite(killedAt, workload.Now);
        var report = await ConsistencyChecker.CheckAsync(workload, system.Postgres, system.Settings[0]);
        output.WriteLine($"new leader gw2 {takeover.TotalMilliseconds:0} ms after kill -9 of gw1 (lease TTL {ClusterSystem.LeaseTtl}); "
            + $"client-seen write pause {pause.TotalMilliseconds:0} ms; {workload.Acknowledged.Count} deposits acknowledged, {workload.Failures.Count} failed; {report}");
        Assert.True(takeover < TimeSpan.FromSeconds(4), $"gw2 led only {takeover.TotalSeconds:0.0} s after the kill (LeaseTtl + 1 s = 4 s)");
        Assert.True(report.Lost.Count == 0, report.Details());
        Assert.Equal(led.Epoch, (await survivor.StatusAsync()).Epoch);
        Assert.Contains(workload.Acknowledged, a => a.At > killedAt + takeover);
    }

    [EtcdFact]
    public async Task Losing_etcds_quorum_stops_writes_with_503_and_57P03_starts_no_failover_and_everything_resumes_with_the_quorum()
    {
        await using var system = await ClusterSystem.StartAsync();
        var gateway = system.Gateways[1];
        var epoch = (await gateway.StatusAsync()).Epoch;

        system.Etcd.Members[1].Kill();
        system.Etcd.Members[2].Kill();
        var lost = Stopwatch.StartNew();
        // The election's verdict first, the fence (and its alarm) as the runtime reacts to it a moment later.
        var fenced = await gateway.WaitForAsync(s => s.Cluster is { WritesAllowed: false } && s.Alarms.Any(a => a.Key == "cluster-writes-fenced"),
            "fenced, with the alarm", TimeSpan.FromSeconds(10));
        var fencedAfter = lost.Elapsed;
        var scrape = await Observability.MetricsScrape.FetchAsync(gateway.Admin.BaseAddress!);
        Assert.Equal((0d, 1d), (scrape.Value("gateway_cluster_session_valid"), scrape.Value("gateway_cluster_writes_fenced")));
        Assert.True(scrape.Value("gateway_cluster_etcd_request_failures_total") > 0, "no failed etcd request counted");
        using (var notReady = await gateway.Admin.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        }

        using var write = await gateway.Public.PostAsync("/deposits", new StringContent("x"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, write.StatusCode);
        Assert.NotNull(write.Headers.RetryAfter);
        var refusal = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = new NpgsqlConnection(Tests.EndToEnd.TwoSiteSystem.ThroughGateway(system.Settings[1].PgWritePort));
            await connection.OpenAsync();
        });
        Assert.Equal("57P03", refusal.SqlState);

        // Without a quorum nobody leads: no failover, no new epoch, on either gateway.
        await Task.Delay(TimeSpan.FromSeconds(6));
        foreach (var g in system.Gateways)
        {
            var status = await g.StatusAsync();
            Assert.Equal(epoch, status.Epoch);
            Assert.False(status.Switching);
            Assert.False(status.Cluster!.WritesAllowed);
        }

        await system.Etcd.RestartAsync(1);
        await system.Etcd.RestartAsync(2);
        var back = Stopwatch.StartNew();
        await gateway.WaitForAsync(s => s.Cluster is { WritesAllowed: true } && !s.Writes.Held, "writing again", TimeSpan.FromSeconds(30));
        var resumedAfter = back.Elapsed;
        Assert.DoesNotContain((await gateway.StatusAsync()).Alarms, a => a.Key == "cluster-writes-fenced");
        Assert.Equal("ready\n", await gateway.Admin.GetStringAsync("/readyz"));
        using var again = await gateway.Public.GetAsync("/deposits");
        await using (var connection = new NpgsqlConnection(Tests.EndToEnd.TwoSiteSystem.ThroughGateway(system.Settings[1].PgWritePort)))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
            Assert.False((bool)(await insert.ExecuteScalarAsync())!);
        }

        output.WriteLine($"writes stopped {fencedAfter.TotalMilliseconds:0} ms after 2 of 3 etcd members were killed ({fenced.Cluster!.Sentence}); "
            + $"resumed {resumedAfter.TotalMilliseconds:0} ms after they were restarted; epoch stayed {epoch}");
        Assert.Equal(epoch, (await gateway.StatusAsync()).Epoch);
    }

    [EtcdFact]
    public async Task Kill_9_of_the_leader_in_the_middle_of_a_switchover_the_other_gateway_finishes_it()
    {
        var marker = "";
        await using var system = await ClusterSystem.StartAsync(settings =>
        {
            // Holds the switch just before its links flip, long enough to kill the leader there.
            marker = Path.Combine(settings.Root, "in-flip");
            settings.Values["Gateway:Coordinator:Hooks:0:Step"] = "flip-filestore-links";
            settings.Values["Gateway:Coordinator:Hooks:0:When"] = "Before";
            settings.Values["Gateway:Coordinator:Hooks:0:Command"] = $"touch '{marker}'; sleep 5";
            settings.Values["Gateway:Coordinator:Hooks:0:Timeout"] = "00:00:20";
        });
        var (leader, survivor) = (system.Gateways[0], system.Gateways[1]);
        await leader.WaitForAsync(s => s.Filestore is { InitialSync.Completed: true }, "the filestore's initial sync done", TimeSpan.FromSeconds(30));
        await using var workload = new DepositWorkload(survivor.Public, "cluster-switch", depositsPerSecond: 50, readsPerSecond: 10);
        workload.Start();
        await Task.Delay(2000);

        var switchover = leader.Admin.PostAsync("/admin/switchover", new StringContent("""{"to":"B"}""", Encoding.UTF8, "application/json"));
        var deadline = Stopwatch.StartNew();
        while (!File.Exists(marker))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"the switchover did not reach the flip within 60 s\n{leader.LogTail()}");
            await Task.Delay(50);
        }

        var killedAt = workload.Now;
        leader.Kill();
        await Assert.ThrowsAnyAsync<Exception>(() => switchover);
        var finished = await survivor.WaitForAsync(s => s is { ActiveSite: "B", Switching: false, Cluster.Leader: "gw2" }, "finishing the switch", TimeSpan.FromSeconds(60));
        var finishedAfter = workload.Now - killedAt;
        await Task.Delay(2000);
        await workload.StopAsync();

        var report = await ConsistencyChecker.CheckAsync(workload, system.Postgres, system.Settings[0], exceptFenced: true);
        var (port, inRecovery) = await SiteInvariants.WriteEndpointLeadsToAsync(system.Settings[1].PgWritePort);
        output.WriteLine($"gw2 finished the switch to B (epoch {finished.Epoch}) {finishedAfter.TotalMilliseconds:0} ms after kill -9 of gw1 before its link flip; "
            + $"longest window without an acknowledged deposit {workload.LongestWindowWithoutWrite(killedAt, workload.Now).TotalMilliseconds:0} ms; {report}");
        Assert.Equal("B", await SiteInvariants.SingleWritableNodeAsync(system.Postgres, exceptFenced: true));
        Assert.Equal((system.Postgres.Standby.Port, false), (port, inRecovery));
        Assert.Equal(Path.GetFullPath(system.Settings[0].SanB), new FileInfo(system.Settings[0].FilestoreLink).ResolveLinkTarget(returnFinalTarget: true)!.FullName);
        Assert.True(report.Lost.Count == 0, report.Details());
    }

    [EtcdFact]
    public async Task Losing_one_etcd_member_of_three_under_load_changes_neither_traffic_nor_leadership()
    {
        await using var system = await ClusterSystem.StartAsync();
        var gateway = system.Gateways[1];
        var before = await gateway.StatusAsync();
        await using var workload = new DepositWorkload(gateway.Public, "cluster-member", depositsPerSecond: 50, readsPerSecond: 10);
        workload.Start();
        await Task.Delay(2000);

        var killedAt = workload.Now;
        system.Etcd.Members[0].Kill();
        await Task.Delay(TimeSpan.FromSeconds(8));
        await workload.StopAsync();

        var after = await gateway.StatusAsync();
        var report = await ConsistencyChecker.CheckAsync(workload, system.Postgres, system.Settings[0]);
        output.WriteLine($"one etcd member of three killed: {workload.FailuresSince(killedAt).Count} failed requests since, "
            + $"longest window without an acknowledged deposit {workload.LongestWindowWithoutWrite(killedAt, workload.Now).TotalMilliseconds:0} ms; leader {after.Cluster!.Leader}; {report}; failures: {workload.FailureReasons()}");
        Assert.Empty(workload.Failures);
        Assert.True(report.IsClean, report.Details());
        Assert.Equal(("gw1", before.Epoch, true), (after.Cluster.Leader, after.Epoch, after.Cluster.WritesAllowed));
        Assert.DoesNotContain(after.Alarms, a => a.Key == "cluster-writes-fenced");
    }

    [EtcdFact]
    public async Task A_leader_that_alone_loses_the_active_sites_database_does_not_fail_it_over_while_the_other_gateway_sees_it()
    {
        // gw1 reaches site A's database through a relay the test cuts: its own link to A breaks, A itself is fine.
        TcpRelay? relay = null;
        await using var system = await ClusterSystem.StartAsync(configureFirst: first =>
        {
            relay = new TcpRelay(int.Parse(first.Values["Gateway:Sites:0:Database:Port"]!));
            first.Values["Gateway:Sites:0:Database:Port"] = relay.Port.ToString();
        });
        await using var cut = relay!;
        var leader = system.Gateways[0];
        await leader.WaitForAsync(s => s.Filestore is { InitialSync.Completed: true } && s.IfFailoverNow is { GatePasses: true },
            "ready to fail over", TimeSpan.FromSeconds(30));
        var epoch = (await leader.StatusAsync()).Epoch;

        await relay!.CutAsync();
        var deadline = Stopwatch.StartNew();
        while (!leader.Output.Contains("not done: site A is not dead: gw2 sees it healthy", StringComparison.Ordinal))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), $"the leader did not hold back a move off site A within 30 s\n{leader.LogTail()}");
            await Task.Delay(200);
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        foreach (var gateway in system.Gateways)
        {
            var status = await gateway.StatusAsync();
            Assert.Equal((epoch, "A", false), (status.Epoch, status.ActiveSite, status.Switching));
        }

        output.WriteLine(leader.Output.Split('\n').First(line => line.Contains("not done: site A is not dead", StringComparison.Ordinal)));
    }
}
