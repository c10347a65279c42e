using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gateway.Backup;

namespace Gateway.Tests.Backup;

/// <summary>Requests the backup API refuses: each answer names what was wrong, and nothing changes.</summary>
[Integration]
[Collection(BackupSystemCollection.Name)]
public sealed class BackupBadInputTests(BackupSystem system)
{
    [Fact]
    public async Task Bad_requests_are_refused_naming_the_value_and_change_nothing()
    {
        await system.ResetAsync();
        var backup = await system.SucceededBackupAsync();
        var snapshotsBefore = await system.ResticAsync("snapshots", "--json");
        var setsBefore = await system.PgBackRestAsync("--output=json", "info");

        await AssertRefusedAsync(await system.Admin.GetAsync("/admin/backups/20990101T000000Z"), HttpStatusCode.NotFound, "unknown backup id '20990101T000000Z'");
        var unknown = await system.Admin.PostAsJsonAsync("/admin/backups/nope/verify", new { });
        await BackupSystem.CaptureAsync("error-unknown-backup.json", unknown);
        await AssertRefusedAsync(unknown, HttpStatusCode.NotFound, "unknown backup id 'nope'");
        await AssertRefusedAsync(await system.Admin.PostAsJsonAsync("/admin/backups/nope/restore", new { to = "/tmp/x" }), HttpStatusCode.NotFound, "unknown backup id 'nope'");

        // A restore target that is not empty: refused, and what is there stays as it was.
        var occupied = Path.Combine(system.Settings.Root, "occupied");
        Directory.CreateDirectory(occupied);
        await File.WriteAllTextAsync(Path.Combine(occupied, "precious.txt"), "keep me");
        await AssertRefusedAsync(await system.Admin.PostAsJsonAsync($"/admin/backups/{backup.Id}/restore", new { to = occupied }), HttpStatusCode.Conflict,
            $"restore target '{occupied}' is not empty (precious.txt)");
        Assert.Equal(["precious.txt"], Directory.EnumerateFileSystemEntries(occupied).Select(Path.GetFileName));
        Assert.Equal("keep me", await File.ReadAllTextAsync(Path.Combine(occupied, "precious.txt")));

        await AssertRefusedAsync(await system.Admin.PostAsJsonAsync($"/admin/backups/{backup.Id}/restore", new { to = "restored" }), HttpStatusCode.BadRequest,
            "restore target 'restored' must be an absolute path");
        await AssertRefusedAsync(await system.Admin.PostAsJsonAsync($"/admin/backups/{backup.Id}/restore", new { to = "/tmp/x", site = "B" }), HttpStatusCode.BadRequest,
            "give exactly one of 'to' (a directory) and 'site'");
        await AssertRefusedAsync(await system.Admin.PostAsJsonAsync($"/admin/backups/{backup.Id}/restore", new { site = "A" }), HttpStatusCode.Conflict,
            "site A holds the primary");
        await AssertRefusedAsync(await system.Admin.PostAsJsonAsync($"/admin/backups/{backup.Id}/restore", new { site = "C" }), HttpStatusCode.NotFound, "unknown site 'C'");
        await AssertRefusedAsync(await system.Admin.PostAsJsonAsync($"/admin/backups/{backup.Id}/restore", new { to = "/tmp/x", targetAction = "Resume" }), HttpStatusCode.BadRequest,
            "invalid request body");
        await AssertRefusedAsync(await system.Admin.PostAsJsonAsync($"/admin/backups/{backup.Id}/restore", new { to = "/tmp/x", target = "/tmp/y" }), HttpStatusCode.BadRequest,
            "'target'");

        // A retention of zero: refused whole, before anything is decided.
        await AssertRefusedAsync(await system.Admin.PostAsJsonAsync("/admin/backups/prune", new { keepLast = 0, keepDaily = 0, keepWeekly = 0 }), HttpStatusCode.BadRequest,
            "KeepLast 0, KeepDaily 0 and KeepWeekly 0 keep nothing");
        using var notJson = await system.Admin.PostAsync("/admin/backup", new StringContent("{}", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notJson.StatusCode);

        Assert.Equal([backup.Id], (await system.ListAsync()).Backups.Select(b => b.Id));
        Assert.Equal(snapshotsBefore, await system.ResticAsync("snapshots", "--json"));
        Assert.Equal(setsBefore, await system.PgBackRestAsync("--output=json", "info"));
        Assert.False(await system.Postgres.Primary.ScalarAsync<bool>("SELECT pg_is_in_recovery()"));
        Assert.True(await system.Postgres.Standby.ScalarAsync<bool>("SELECT pg_is_in_recovery()"));

        // Refusals are audited like every other admin call's.
        var audit = await system.Admin.GetFromJsonAsync<List<AuditLine>>("/admin/audit?limit=30");
        Assert.Contains(audit!, entry => entry.Status == 404 && entry.Path == "/admin/backups/nope/verify" && entry.Result.Contains("unknown backup id 'nope'", StringComparison.Ordinal));
        Assert.Contains(audit!, entry => entry.Status == 409 && entry.Result.Contains("is not empty (precious.txt)", StringComparison.Ordinal));
    }

    private sealed record AuditLine(string Path, int Status, string Result);

    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string error)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status && body.Contains(error, StringComparison.Ordinal), $"expected {(int)status} with \"{error}\", got {(int)response.StatusCode}: {body}");
        response.Dispose();
    }
}
