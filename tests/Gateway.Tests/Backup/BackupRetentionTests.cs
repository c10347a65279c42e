using System.Net;
using System.Net.Http.Json;
using Gateway.Backup;
using Xunit.Abstractions;

namespace Gateway.Tests.Backup;

/// <summary>
/// A real prune of both engines together, its decision checked against restic's own, with differential database
/// backups: a kept one keeps the full set it builds on, which then stays whole (its files too).
/// </summary>
[Integration]
[Collection(BackupSystemCollection.Name)]
public sealed class BackupRetentionTests(BackupSystem system, ITestOutputHelper output)
{
    [Fact]
    public async Task A_prune_removes_the_same_backups_from_pgBackRest_and_restic_as_restic_itself_would_keeps_what_a_kept_backup_builds_on_and_what_is_kept_still_restores()
    {
        await system.ResetAsync(values => values["Gateway:Backup:PgBackRest:Type"] = "Diff");
        var backups = new List<BackupRecord>();
        for (var i = 0; i < 3; i++)
        {
            using var deposit = await system.Public.PostAsync($"/deposits?name=prune-{i}", new ByteArrayContent([(byte)i]));
            Assert.Equal(HttpStatusCode.Created, deposit.StatusCode);
            backups.Add(await system.SucceededBackupAsync());
        }

        Assert.Equal(["full", "diff", "diff"], backups.Select(b => b.Database!.Type));
        Assert.Equal([null, backups[0].Database!.Label, backups[0].Database!.Label], backups.Select(b => b.Database!.Prior));

        // What the rules keep is what restic's dry run of the same rules keeps; the full set the newest builds on stays with it.
        var dryRun = await PruneAsync(new { keepLast = 1, keepDaily = 1, keepWeekly = 0, dryRun = true }, "backup-prune-dry-run.json");
        var resticKeeps = await system.ResticAsync("forget", "--dry-run", "--json", "--group-by", "", "--keep-last=1", "--keep-daily=1", "--keep-weekly=0");
        var byRules = dryRun.Keep.Where(k => !k.Reasons.Any(r => r.StartsWith("base of", StringComparison.Ordinal))).Select(k => k.Id).ToList();
        Assert.Equal(backups.Where(b => byRules.Contains(b.Id)).Select(b => b.Files!.SnapshotId), Restic.ParseSnapshots(KeepList(resticKeeps)).Select(s => s.Id));
        Assert.Equal([backups[2].Id], byRules);
        Assert.Equal([backups[2].Id, backups[0].Id], dryRun.Keep.Select(k => k.Id));
        Assert.Equal([$"base of {backups[2].Id}"], dryRun.Keep[1].Reasons);
        Assert.Equal([backups[1].Id], dryRun.Remove);
        Assert.Equal(3, (await system.ListAsync()).Backups.Count);
        await BackupSystem.CaptureAsync("backup-list.json", await system.Admin.GetAsync("/admin/backups"));

        var pruned = await PruneAsync(new { keepLast = 1, keepDaily = 0, keepWeekly = 0 }, "backup-prune-report.json");
        output.WriteLine(pruned.Summary);
        foreach (var step in pruned.Steps)
        {
            output.WriteLine($"  {step.Step}: {step.Outcome}");
        }

        var kept = new[] { backups[0], backups[2] };
        Assert.Equal(kept.Select(b => b.Id), (await system.ListAsync()).Backups.Select(b => b.Id));
        var sets = PgBackRest.ParseInfo(await system.PgBackRestAsync("--output=json", "info"), "gateway");
        Assert.Equal(kept.Select(b => b.Database!.Label), sets.Select(s => s.Label));
        var snapshots = Restic.ParseSnapshots((await system.ResticAsync("snapshots", "--json")).Trim());
        Assert.Equal(kept.Select(b => b.Files!.SnapshotId), snapshots.Select(s => s.Id));

        var drill = await BackupSystem.ReadAsync<VerifyRecord>(await system.Admin.PostAsJsonAsync($"/admin/backups/{backups[2].Id}/verify", new { }));
        Assert.True(drill.Passed, drill.Summary);
    }

    private async Task<PruneReport> PruneAsync(object body, string sample)
    {
        using var response = await system.Admin.PostAsJsonAsync("/admin/backups/prune", body);
        await BackupSystem.CaptureAsync(sample, response);
        var report = await BackupSystem.ReadAsync<PruneReport>(response);
        Assert.True(response.IsSuccessStatusCode && report.Succeeded, report.Summary);
        return report;
    }

    /// <summary>The "keep" snapshots of restic's one group (--group-by '') from forget --json.</summary>
    private static string KeepList(string forgetJson)
    {
        using var document = System.Text.Json.JsonDocument.Parse(forgetJson.Trim());
        return document.RootElement[0].GetProperty("keep").GetRawText();
    }
}
