using System.Net.Http.Json;
using System.Net;
using Gateway.Configuration;
using Gateway.Coordinator;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Hooks;
using Gateway.Coordinator.Switching;
using Gateway.Database.Failover;
using Gateway.Tests.EndToEnd;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.Coordinator.Hooks;

/// <summary>
/// The two-site system with a Before and an After hook on every step, all running one script: it logs its
/// environment, prints a line, waits while the test has put a hold file (hold-before-rejoin, ...), and fails where the
/// test has put a marker file (fail-before-move-database, ...).
/// </summary>
public sealed class HookedTwoSiteSystem : TwoSiteSystem
{
    /// <summary>Under the settings' temp directory, so it goes when the system does.</summary>
    public string HookDirectory => Path.Combine(Settings.Root, "hooks");

    public string EnvironmentLog => Path.Combine(HookDirectory, "environment.log");

    protected override void Configure(Dictionary<string, string?> values)
    {
        Directory.CreateDirectory(HookDirectory);
        var script = Path.Combine(HookDirectory, "hook.sh");
        File.WriteAllText(script, $"""
            echo "$GATEWAY_HOOK_WHEN $GATEWAY_STEP kind=$GATEWAY_SWITCH_KIND from=$GATEWAY_FROM_SITE to=$GATEWAY_TO_SITE epoch=$GATEWAY_EPOCH result=$GATEWAY_SWITCH_RESULT" >> {EnvironmentLog}
            while [ -e "{HookDirectory}/hold-$GATEWAY_HOOK_WHEN-$GATEWAY_STEP" ]; do sleep 0.1; done
            if [ -e "{HookDirectory}/fail-$GATEWAY_HOOK_WHEN-$GATEWAY_STEP" ]; then
                echo "refusing $GATEWAY_STEP" >&2
                exit 1
            fi
            echo "$GATEWAY_HOOK_WHEN $GATEWAY_STEP done"
            """);
        var index = 0;
        foreach (var step in SwitchSteps.Hookable)
        {
            foreach (var when in new[] { "Before", "After" })
            {
                values[$"Gateway:Coordinator:Hooks:{index}:Step"] = step;
                values[$"Gateway:Coordinator:Hooks:{index}:When"] = when;
                values[$"Gateway:Coordinator:Hooks:{index}:Command"] = $"sh {script}";
                index++;
            }
        }
    }

    /// <summary>Makes the hook at <paramref name="when"/> of <paramref name="step"/> exit 1 from now on; starts a fresh environment log.</summary>
    public void FailHook(string when, string step) => File.WriteAllText(Path.Combine(HookDirectory, $"fail-{when}-{step}"), "");

    /// <summary>Makes the hook at <paramref name="when"/> of <paramref name="step"/> wait (up to its timeout) until <see cref="ReleaseHook"/>.</summary>
    public void HoldHook(string when, string step) => File.WriteAllText(HoldFile(when, step), "");

    public void ReleaseHook(string when, string step) => File.Delete(HoldFile(when, step));

    private string HoldFile(string when, string step) => Path.Combine(HookDirectory, $"hold-{when}-{step}");

    public void ResetHooks()
    {
        foreach (var file in Directory.GetFiles(HookDirectory, "fail-*").Concat(Directory.GetFiles(HookDirectory, "hold-*")).Append(EnvironmentLog))
        {
            File.Delete(file);
        }
    }
}

/// <summary>Hooks on the whole system: a failing Before hook aborts a planned switchover cleanly; hook runs, outputs and environments are reported.</summary>
[Integration]
public sealed class SwitchHooksTests(HookedTwoSiteSystem system, ITestOutputHelper output) : IClassFixture<HookedTwoSiteSystem>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        system.ResetHooks();
        await system.RestoreAllInstancesAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_failing_before_hook_of_the_database_move_aborts_the_switchover_and_leaves_everything_on_site_A()
    {
        system.FailHook("before", SwitchSteps.MoveDatabase);
        var epochBefore = (await system.Gateway.StatusAsync()).Epoch;

        var (status, report) = await SwitchAsync("B");

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.False(report.Succeeded);
        Assert.Contains("abandoned before 'move-database'", report.Summary);
        var failed = Assert.Single(report.Hooks, h => h.Result != HookRun.Succeeded);
        Assert.Equal((SwitchSteps.MoveDatabase, HookWhen.Before, (int?)1, "refusing move-database\n"), (failed.Step, failed.When, failed.ExitCode, failed.Output));
        Assert.Contains("stops a planned switchover", failed.Consequence);
        Assert.DoesNotContain(report.Hooks, h => h.Step == SwitchSteps.MoveDatabase && h.When == HookWhen.After);
        Assert.Contains(report.Steps, s => s.Id == SwitchSteps.RollBack);
        Assert.DoesNotContain(report.Steps, s => s.Id == SwitchSteps.MoveDatabase);

        // Nothing moved: site A active, its node the only writable one and the write endpoint's target, the link on SAN A,
        // writes released (a deposit goes through to site A).
        var after = await system.Gateway.StatusAsync();
        Assert.Equal(("A", false, "A"), (after.ActiveSite, after.Switching, after.Database.Primary));
        Assert.True(after.Epoch > epochBefore, "the abandoned switch's epoch stays used");
        Assert.Equal("A", await SiteInvariants.SingleWritableNodeAsync(system.Postgres));
        Assert.Equal((system.Postgres.Primary.Port, false), await SiteInvariants.WriteEndpointLeadsToAsync(system.Settings.PgWritePort));
        Assert.Equal(system.Settings.SanA, new FileInfo(system.Settings.FilestoreLink).LinkTarget);
        Assert.False(after.Writes.Held);
        using var deposit = await system.Gateway.Public.PostAsync("/deposits?name=after-abort", new ByteArrayContent([1, 2, 3]));
        Assert.Equal(HttpStatusCode.Created, deposit.StatusCode);
        Assert.StartsWith("a", deposit.Headers.GetValues("X-Served-By").Single());

        // The whole switch's After hook still ran, told that the switch failed.
        Assert.Contains("after switch kind=switchover from=A to=B", File.ReadAllLines(system.EnvironmentLog).Last());
        Assert.EndsWith("result=failed", File.ReadAllLines(system.EnvironmentLog).Last());
    }

    [Fact]
    public async Task Every_hook_of_a_switchover_runs_in_order_with_its_environment_and_a_failing_after_hook_is_reported_and_alarmed_without_stopping_it()
    {
        system.FailHook("after", SwitchSteps.FlipFilestoreLinks);
        var epochBefore = (await system.Gateway.StatusAsync()).Epoch;

        var (status, report) = await SwitchAsync("B");
        var alarms = (await system.Gateway.StatusAsync()).Alarms;
        try
        {
            Assert.True(status == HttpStatusCode.OK, report.Summary);
            Assert.Equal(SwitchSteps.OfSiteSwitch.SelectMany(step => new[] { (step, HookWhen.Before), (step, HookWhen.After) }).OrderBy(Position),
                report.Hooks.Select(h => (h.Step, h.When)).OrderBy(Position));
            Assert.Equal(report.Hooks.OrderBy(h => h.StartedAt).Select(h => (h.Step, h.When)), report.Hooks.Select(h => (h.Step, h.When)));
            var flipped = Assert.Single(report.Hooks, h => h.Result == HookRun.Failed);
            Assert.Equal((SwitchSteps.FlipFilestoreLinks, HookWhen.After, "refusing flip-filestore-links\n"), (flipped.Step, flipped.When, flipped.Output));
            Assert.Contains(alarms, a => a.Key == SwitchHooks.HookFailedAlarm && a.Message.Contains("flip-filestore-links"));
            var routed = Assert.Single(report.Hooks, h => h.Step == SwitchSteps.RouteWrites && h.When == HookWhen.After);
            Assert.Equal(((int?)0, "after route-writes done\n", (string?)null), (routed.ExitCode, routed.Output, routed.Consequence));
            Assert.Contains(report.Steps, s => s.Step.StartsWith("After hook of route-writes") && s.Outcome.Contains("exit 0"));

            // The epoch a hook sees is the one in force when it runs: the old one until the new one is persisted.
            var environment = File.ReadAllLines(system.EnvironmentLog);
            Assert.Contains($"before persist-epoch kind=switchover from=A to=B epoch={epochBefore} result=", environment);
            Assert.Contains($"after persist-epoch kind=switchover from=A to=B epoch={epochBefore + 1} result=", environment);
            Assert.Contains($"after switch kind=switchover from=A to=B epoch={epochBefore + 1} result=succeeded", environment);
        }
        finally
        {
            foreach (var step in report.Steps)
            {
                output.WriteLine($"{step.Id}: {step.Step}: {step.Outcome}");
            }

            await MoveBackToAAsync();
        }
    }

    [Fact]
    public async Task While_a_rejoin_runs_a_switchover_or_a_promotion_is_refused_with_409_naming_the_rejoin_and_nothing_changes()
    {
        system.HoldHook("before", SwitchSteps.Rejoin);
        system.FailHook("before", SwitchSteps.Rejoin);
        var before = await system.Gateway.StatusAsync();
        var rejoin = system.Gateway.Admin.PostAsJsonAsync("/admin/database/rejoin", new { site = "B" });
        try
        {
            var giveUpAt = DateTime.UtcNow.AddSeconds(30);
            while (!File.Exists(system.EnvironmentLog) || !File.ReadAllText(system.EnvironmentLog).Contains("before rejoin", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < giveUpAt, "the rejoin's Before hook did not start");
                await Task.Delay(50);
            }

            foreach (var (path, body) in new[] { ("/admin/switchover", (object)new { to = "B" }), ("/admin/database/promote", new { to = "B" }) })
            {
                using var refused = await system.Gateway.Admin.PostAsJsonAsync(path, body);
                var problem = await refused.Content.ReadAsStringAsync();
                Assert.True(refused.StatusCode == HttpStatusCode.Conflict, $"{path}: {(int)refused.StatusCode} {problem}");
                Assert.Matches(@"a rejoin of B is running \(since \d\d:\d\d:\d\d\); try again when it has ended", problem);
            }
        }
        finally
        {
            system.ReleaseHook("before", SwitchSteps.Rejoin);
        }

        using var response = await rejoin;
        var report = await response.Content.ReadFromJsonAsync<RejoinReport>(AdminRequests.Json);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.StartsWith("rejoin of B not started: a Before hook failed", report!.Summary);
        var after = await system.Gateway.StatusAsync();
        Assert.Equal((before.Epoch, "A", false, "A"), (after.Epoch, after.ActiveSite, after.Switching, after.Database.Primary));
    }

    private static int Position((string Step, HookWhen When) hook) => (SwitchSteps.Hookable.ToList().IndexOf(hook.Step) * 2) + (int)hook.When;

    private async Task<(HttpStatusCode, SiteSwitchReport)> SwitchAsync(string to)
    {
        using var response = await system.Gateway.Admin.PostAsJsonAsync("/admin/switchover", new { to });
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<SiteSwitchReport>(AdminRequests.Json))!);
    }

    /// <summary>Leaves the system as the fixture made it: A active, B streaming from it.</summary>
    private async Task MoveBackToAAsync()
    {
        system.ResetHooks();
        await RejoinAsync("A");
        var (status, report) = await SwitchAsync("A");
        Assert.True(status == HttpStatusCode.OK, report.Summary);
        await RejoinAsync("B");
    }

    private async Task RejoinAsync(string site)
    {
        using var rejoin = await system.Gateway.Admin.PostAsJsonAsync("/admin/database/rejoin", new { site });
        var report = await rejoin.Content.ReadFromJsonAsync<RejoinReport>(AdminRequests.Json);
        Assert.True(report!.Succeeded, report.Summary);
        var giveUpAt = DateTime.UtcNow.AddSeconds(30);
        while ((await system.Gateway.StatusAsync()).Database.Read.Action != "Forward")
        {
            Assert.True(DateTime.UtcNow < giveUpAt, $"site {site} did not become a readable standby");
            await Task.Delay(100);
        }
    }
}
