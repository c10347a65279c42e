using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Audit;
using Gateway.Coordinator.Supervision;
using Gateway.Coordinator.Switching;
using Gateway.Testing;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// What an operator of Patroni takes for granted, on the whole system: a switch back right after a switchover, a
/// pause of automatic failover that survives a restart, a file gate that refuses to fail over onto a replica lacking
/// deposits (and says so before), and clear refusals of bad admin input.
/// </summary>
[Integration]
public sealed class OperatorControlTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_switchover_and_a_switch_back_four_seconds_later_fail_no_request_and_the_old_primary_follows_by_itself()
    {
        await using var system = new FailbackSystem();
        await system.InitializeAsync();
        await using var workload = new DepositWorkload(system.Gateway.Public, "back-and-forth", depositsPerSecond: 20, readsPerSecond: 20);
        workload.Start();
        await Task.Delay(1500);

        foreach (var (to, from) in new[] { ("B", "A"), ("A", "B") })
        {
            using var response = await system.Gateway.Admin.PostAsJsonAsync("/admin/switchover", new { to });
            var report = (await response.Content.ReadFromJsonAsync<SiteSwitchReport>(AdminRequests.Json))!;
            output.WriteLine(report.Summary);
            Assert.True(response.StatusCode == HttpStatusCode.OK, report.Summary);

            // Without an admin call, the old primary streams from the new one within 10 s (Patroni restarts it as a replica).
            var clock = Stopwatch.StartNew();
            await system.Gateway.WaitForAsync(
                s => s.Database.Nodes.Single(n => n.Site == from) is { Role: "standby", Fenced: false } && s.Database.Read is { Action: "Forward" } read && read.Site == from,
                $"{from} streams from {to}", TimeSpan.FromSeconds(10));
            output.WriteLine($"{from} serves the read endpoint as {to}'s standby {clock.Elapsed.TotalSeconds:0.0} s after the report");
            await Task.Delay(4000 - (int)Math.Min(4000, clock.ElapsedMilliseconds));
        }

        await Task.Delay(1000);
        await workload.StopAsync();
        Assert.True(workload.Failures.Count == 0, $"{workload.Failures.Count} failed requests: {workload.FailureReasons()}");
        var consistency = await ConsistencyChecker.CheckAsync(workload, system.Postgres, system.Settings);
        output.WriteLine(consistency.ToString());
        Assert.True(consistency.IsClean, $"{consistency}; {consistency.Details()}");
        await DepositReadback.AssertAllReadableAsync(system.Gateway.Public, workload.Acknowledged, "after both switchovers");
    }

    [Fact]
    public async Task While_paused_no_failover_happens_even_across_a_restart_the_refusal_is_recorded_and_resuming_fails_over()
    {
        await using var system = new FailbackSystem();
        await system.InitializeAsync();

        var (status, body) = await PostAsync(system, "/admin/pause", new { reason = "patching site A", @for = "00:10:00" });
        Assert.True(status == HttpStatusCode.OK, body);
        await system.RestartGatewayAsync();
        // The restarted coordinator has seen both sites healthy (a site it never saw healthy is still starting up, not failed).
        var paused = await system.Gateway.WaitForAsync(s => s.Sites is { Count: 2 } sites && sites.All(site => site.Healthy), "both sites healthy after the restart", Settle);
        Assert.Equal("patching site A", paused.Paused?.Reason);

        system.KillSite("A");
        // Well past FailoverAfter (1 s for a lost database) and RecoverAfter (2 s): a failover would have happened by now.
        await Task.Delay(TimeSpan.FromSeconds(8));
        var held = await system.Gateway.StatusAsync();
        Assert.Equal(("A", "A"), (held.ActiveSite, held.Database.Primary));
        var audit = await system.Gateway.Admin.GetFromJsonAsync<List<AuditEntry>>("/admin/audit?limit=1000", AdminRequests.Json);
        var refusal = Assert.Single(audit!, entry => entry is { Caller: "coordinator", Path: "/admin/paused" });
        output.WriteLine(refusal.Result);
        Assert.Contains("automatic failover is paused (patching site A", refusal.Result);
        Assert.Contains("it would have done", refusal.Result);

        (status, body) = await PostAsync(system, "/admin/resume", new { });
        Assert.True(status == HttpStatusCode.OK, body);
        await system.Gateway.WaitForAsync(s => s is { ActiveSite: "B", Switching: false }, "failed over once resumed", Settle);
    }

    [Fact]
    public async Task Bad_input_on_the_new_endpoints_gets_a_clear_4xx_changes_nothing_and_is_audited()
    {
        await using var system = new FailbackSystem();
        await system.InitializeAsync();

        var cases = new (string Path, string Json, HttpStatusCode Status, string Says)[]
        {
            ("/admin/pause", """{"reason":"x","for":"-00:01:00"}""", HttpStatusCode.BadRequest, "for: -00:01:00 must be more than zero"),
            ("/admin/pause", """{"reason":"x","for":"00:01:00","until":"tomorrow"}""", HttpStatusCode.BadRequest, "until"),
            ("/admin/pause", """{"for":"00:01:00"}""", HttpStatusCode.BadRequest, "reason"),
            ("/admin/pause", """{"reason":"  ","for":"00:01:00"}""", HttpStatusCode.BadRequest, "reason: must say why"),
            ("/admin/pause", """{"reason":"x","for":"8.00:00:00"}""", HttpStatusCode.BadRequest, "at most 7.00:00:00"),
            ("/admin/resume", "{}", HttpStatusCode.Conflict, "automatic failover is not paused"),
            ("/admin/resume", """{"now":true}""", HttpStatusCode.BadRequest, "now"),
            ("/admin/filestore/release-deletes", "{}", HttpStatusCode.Conflict, "no delete is held"),
            ("/admin/database/rejoin", """{"site":"C"}""", HttpStatusCode.NotFound, "unknown site 'C'"),
        };
        foreach (var (path, json, expected, says) in cases)
        {
            var (status, body) = await PostRawAsync(system, path, json);
            Assert.True(status == expected, $"{path} {json}: {(int)status} {body}");
            Assert.Contains(says, body);
            Assert.Null((await system.Gateway.StatusAsync()).Paused);
        }

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(system, "/admin/pause", new { reason = "once", @for = "00:01:00" })).Status);
        var (again, refusal) = await PostAsync(system, "/admin/pause", new { reason = "twice", @for = "00:01:00" });
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Contains("already paused (once", refusal);
        Assert.Equal("once", (await system.Gateway.StatusAsync()).Paused?.Reason);

        var audit = await system.Gateway.Admin.GetFromJsonAsync<List<AuditEntry>>("/admin/audit?limit=1000", AdminRequests.Json);
        Assert.Equal(cases.Length + 2, audit!.Count(entry => entry.Path is "/admin/pause" or "/admin/resume" or "/admin/filestore/release-deletes" or "/admin/database/rejoin"));
        Assert.Equal(cases.Length + 1, audit!.Count(entry => entry.Status >= 400));
    }

    private static Task<(HttpStatusCode Status, string Body)> PostAsync(TwoSiteSystem system, string path, object body) =>
        PostRawAsync(system, path, JsonSerializer.Serialize(body));

    private static async Task<(HttpStatusCode Status, string Body)> PostRawAsync(TwoSiteSystem system, string path, string json)
    {
        using var response = await system.Gateway.Admin.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}

/// <summary>SAN B on a small file system that is full: the copies to it fail, so deposits pile up on SAN A only.</summary>
public sealed class FullReplicaSystem : TwoSiteSystem
{
    protected override void Configure(Dictionary<string, string?> values)
    {
        values["Gateway:Coordinator:AutoFailover"] = "true";
        values["Gateway:Coordinator:RecoverAfter"] = "00:00:02";
        values["Gateway:Coordinator:FinalSyncDeadline"] = "00:00:03";
        values["Gateway:Database:SynchronousMode"] = "Degrade";
    }

    protected override async Task PrepareSansAsync(GatewaySettings settings)
    {
        await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=4m", "gateway-test-san-b", settings.SanB]);
        _mounted = settings.SanB;
    }

    /// <summary>Fills SAN B to the last byte with a file the replicator does not look at (a write in progress by its name).</summary>
    public async Task FillReplicaAsync()
    {
        await ProcessRunner.RunAsync("sh", ["-c", $"dd if=/dev/zero of={Settings.SanB}/.filler.tmp bs=64k 2>/dev/null; true"]);
    }

    protected override async Task ReleaseSansAsync()
    {
        if (_mounted is { } san)
        {
            await ProcessRunner.RunAsync("umount", ["-l", san]);
        }
    }

    private string? _mounted;
}

/// <summary>The joint RPO gate on the whole system: deposits not on SAN B keep the automatic failover from losing them.</summary>
public sealed class FileGateTests(ITestOutputHelper output)
{
    [RootFact]
    public async Task With_deposits_missing_on_san_b_the_automatic_failover_is_refused_as_status_predicted_and_a_forced_one_lists_them()
    {
        await using var system = new FullReplicaSystem();
        await system.InitializeAsync();
        await system.FillReplicaAsync();
        await using var workload = new DepositWorkload(system.Gateway.Public, "pile-up", depositsPerSecond: 10, readsPerSecond: 0);
        workload.Start();
        var predicted = await system.Gateway.WaitForAsync(s => s.IfFailoverNow is { GatePasses: false, FilesNotReplicated: >= 5 }, "a backlog on SAN B", TimeSpan.FromSeconds(30));
        output.WriteLine($"status predicted: {predicted.IfFailoverNow!.Reason}");
        Assert.Contains("not yet on SAN B, above MaxBacklogOnFailover", predicted.IfFailoverNow.Reason);
        await workload.StopAsync();
        var pendingAtKill = (await system.Gateway.StatusAsync()).Filestore!.PendingFiles;

        system.KillSite("A");
        var refused = await system.Gateway.WaitForAsync(
            s => s.Alarms.Any(a => a.Key == SiteCoordinator.FailoverRefusedAlarm && a.Message.Contains("MaxBacklogOnFailover", StringComparison.Ordinal)),
            "the automatic failover refused by the file gate", TimeSpan.FromSeconds(30));
        var alarm = refused.Alarms.Single(a => a.Key == SiteCoordinator.FailoverRefusedAlarm).Message;
        output.WriteLine(alarm);
        Assert.Contains($"{pendingAtKill} file(s)", alarm);
        Assert.Equal("A", refused.ActiveSite);

        using var forced = await system.Gateway.Admin.PostAsJsonAsync("/admin/failover", new { to = "B", force = true });
        var report = (await forced.Content.ReadFromJsonAsync<SiteSwitchReport>(AdminRequests.Json))!;
        output.WriteLine(report.Summary);
        Assert.True(forced.StatusCode == HttpStatusCode.OK, report.Summary);
        Assert.Contains("flipped anyway (FORCED)", report.Summary);

        // Exactly the deposits whose files never reached SAN B: every acknowledged one SAN B lacks, and no other.
        var missing = workload.Acknowledged.Where(a => !File.Exists(Path.Combine(system.Settings.SanB, "deposits", a.Id.ToString()))).Select(a => $"deposits/{a.Id}").Order().ToList();
        Assert.NotEmpty(missing);
        Assert.Equal(missing, report.UnreplicatedFiles.Where(path => path.StartsWith("deposits/", StringComparison.Ordinal)).Order().ToList());
    }
}

/// <summary>A fact that needs root (mounts): skipped, with the reason, elsewhere.</summary>
[Xunit.Sdk.TraitDiscoverer(IntegrationTraitDiscoverer.TypeName, IntegrationTraitDiscoverer.AssemblyName)]
public sealed class RootFactAttribute : FactAttribute, Xunit.Sdk.ITraitAttribute
{
    public RootFactAttribute()
    {
        if (Environment.UserName != "root")
        {
            Skip = "needs root: it mounts file systems";
        }
    }
}

/// <summary>SAN B behind a FUSE mount (bindfs) whose daemon can be stopped: every access to SAN B then hangs in the kernel, as on a dead NFS server.</summary>
public sealed class HungSanSystem : TwoSiteSystem
{
    private string? _backing;
    private int _bindfs;

    public static string? WhyUnavailable =>
        Environment.UserName != "root" ? "needs root: it mounts file systems"
        : !File.Exists("/usr/bin/bindfs") ? "bindfs is not installed (deploy/prereqs.sh bindfs)"
        : !File.Exists("/dev/fuse") ? "no /dev/fuse on this machine"
        : null;

    protected override void Configure(Dictionary<string, string?> values)
    {
        values["Gateway:Coordinator:AutoFailover"] = "true";
        values["Gateway:Coordinator:RecoverAfter"] = "00:00:02";
        values["Gateway:Coordinator:SanProbeTimeout"] = "00:00:01";
    }

    protected override async Task PrepareSansAsync(GatewaySettings settings)
    {
        _backing = settings.SanB + "-backing";
        Directory.CreateDirectory(_backing);
        await ProcessRunner.RunAsync("bindfs", [_backing, settings.SanB]);
        var pids = await ProcessRunner.RunAsync("pgrep", ["-f", $"bindfs {_backing} {settings.SanB}"]);
        _bindfs = int.Parse(pids.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0]);
    }

    /// <summary>SIGSTOP to the FUSE daemon: from now on a listing, a stat or a write of SAN B waits forever.</summary>
    public Task HangAsync() => ProcessRunner.RunAsync("kill", ["-STOP", _bindfs.ToString()]);

    public Task ThawAsync() => ProcessRunner.RunAsync("kill", ["-CONT", _bindfs.ToString()]);

    protected override async Task ReleaseSansAsync()
    {
        if (_bindfs != 0)
        {
            await ThawAsync();
            await ProcessRunner.RunAsync("umount", ["-l", Settings.SanB]);
        }
    }
}

/// <summary>A fact that needs a FUSE mount: skipped, with the reason, where this machine cannot make one.</summary>
[Xunit.Sdk.TraitDiscoverer(IntegrationTraitDiscoverer.TypeName, IntegrationTraitDiscoverer.AssemblyName)]
public sealed class FuseFactAttribute : FactAttribute, Xunit.Sdk.ITraitAttribute
{
    public FuseFactAttribute()
    {
        if (HungSanSystem.WhyUnavailable is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>Nothing blocks the loops: a SAN that hangs every access is reported unresponsive, and the coordinator goes on deciding about the rest.</summary>
public sealed class HungSanTests(ITestOutputHelper output)
{
    [FuseFact]
    public async Task A_hung_san_is_reported_unresponsive_and_the_coordinator_still_decides_about_the_sites_and_the_database()
    {
        await using var system = new HungSanSystem();
        await system.InitializeAsync();
        using (var deposit = await system.Gateway.Public.PostAsync("/deposits?name=before-the-hang", new ByteArrayContent([1, 2, 3])))
        {
            Assert.Equal(HttpStatusCode.Created, deposit.StatusCode);
        }

        await system.HangAsync();
        try
        {
            var hung = await system.Gateway.WaitForAsync(
                s => s.Sans!.Single(san => san.Site == "B").State == "Unresponsive" && s.Alarms.Any(a => a.Key == SiteCoordinator.SanUnresponsiveAlarm),
                "SAN B reported unresponsive", TimeSpan.FromSeconds(15));
            output.WriteLine(hung.Alarms.Single(a => a.Key == SiteCoordinator.SanUnresponsiveAlarm).Message);
            Assert.Equal("Readable", hung.Sans!.Single(san => san.Site == "A").State);

            // The loop still decides: site A's instances die, and it sees it, judges B (whose SAN hangs) no failover target, and says so.
            foreach (var instance in system.Instances.Values.Where(i => i.InstanceId.StartsWith('a')))
            {
                instance.Kill();
            }

            var decided = await system.Gateway.WaitForAsync(
                s => s.Alarms.Any(a => a.Key == SiteCoordinator.FailoverRefusedAlarm && a.Message.Contains("SAN not answering", StringComparison.Ordinal)),
                "a refusal naming the hung SAN", TimeSpan.FromSeconds(30));
            output.WriteLine(decided.Alarms.Single(a => a.Key == SiteCoordinator.FailoverRefusedAlarm).Message);
            Assert.False(decided.Sites!.Single(site => site.Site == "A").Healthy);
            Assert.Equal(("A", "A"), (decided.ActiveSite, decided.Database.Primary));

            // And the database side is still observed: the standby's node answers, its lag is known.
            var clock = Stopwatch.StartNew();
            var status = await system.Gateway.StatusAsync();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the status took {clock.Elapsed}");
            Assert.True(status.Database.Nodes.Single(n => n.Site == "B").Reachable);
        }
        finally
        {
            await system.ThawAsync();
        }
    }
}
