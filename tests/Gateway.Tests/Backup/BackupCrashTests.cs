using System.Net;
using System.Net.Http.Json;
using Gateway.Backup;
using Gateway.Testing;
using Gateway.Tests.EndToEnd;
using Npgsql;
using Xunit.Abstractions;

namespace Gateway.Tests.Backup;

/// <summary>The gateway killed (SIGKILL) in the middle of a backup: while pgBackRest copies, and while writes are held for the cut.</summary>
[Integration]
[Collection(BackupSystemCollection.Name)]
public sealed class BackupCrashTests(BackupSystem system, ITestOutputHelper output)
{
    [Fact]
    public async Task A_gateway_killed_mid_backup_lists_no_incomplete_backup_as_complete_releases_the_held_writes_on_restart_and_the_next_backup_works()
    {
        // The snapshot command sleeps first, so the kill lands while writes are held for the cut.
        await system.ResetAsync(values =>
        {
            values["Gateway:Backup:MaxHold"] = "00:00:05";
            values["Gateway:Backup:SnapshotCommand"] = "if [ -e {snapshot}.slow ]; then sleep 3; fi; cp -al {san} {snapshot}";
            values["Gateway:Backup:ReleaseSnapshotCommand"] = "rm -rf {snapshot}";
        });

        // 1. Killed while pgBackRest copies the database: its process must not outlive the next start.
        var first = system.BackupAsync();
        await system.WaitForStepAsync("back up the database", TimeSpan.FromSeconds(30));
        await Task.Delay(700);
        system.Gateway!.Kill();
        await Assert.ThrowsAnyAsync<Exception>(() => first);
        await system.StartAsync("after-kill-1");

        // 2. Killed while writes are held: deposits sent then are waiting at the gateway's write gate.
        var snapshotPath = Path.Combine(Path.GetDirectoryName(system.Settings.SanB)!, ".gateway-backup-B");
        await File.WriteAllTextAsync(snapshotPath + ".slow", "");
        var second = system.BackupAsync();
        await system.WaitForStepAsync("hold writes", TimeSpan.FromSeconds(60));
        await Task.Delay(300);
        var held = system.Public.PostAsync("/deposits?name=held", new ByteArrayContent([1, 2, 3]));
        await Task.Delay(300);
        Assert.False(held.IsCompleted, "a deposit sent during the hold must wait at the write gate");
        system.Gateway!.Kill();
        await Assert.ThrowsAnyAsync<Exception>(() => second);
        File.Delete(snapshotPath + ".slow");
        await system.StartAsync("after-kill-2");

        var list = await system.ListAsync();
        output.WriteLine(string.Join('\n', list.Backups.Select(b => $"{b.Id} {b.Status}: {b.Summary}")));
        Assert.Equal([BackupStatus.Interrupted, BackupStatus.Interrupted], list.Backups.Select(b => b.Status));
        Assert.Null(list.Backups[0].Database);
        Assert.Null(list.Backups[1].Cut);
        Assert.Contains("during 'back up the database", list.Backups[0].Summary);
        Assert.Contains("the writes it held were held by that process only", list.Backups[1].Summary);
        Assert.Empty(LeftoverEngineProcesses());

        // The restarted gateway holds nothing: a deposit and a new connection to the PG write endpoint go through at once.
        using var deposit = await system.Public.PostAsync("/deposits?name=after-restart", new ByteArrayContent([4, 5, 6]));
        Assert.Equal(HttpStatusCode.Created, deposit.StatusCode);
        await using (var connection = new NpgsqlConnection(TwoSiteSystem.ThroughGateway(system.Settings.PgWritePort) + ";Pooling=false"))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(*) FROM deposits", connection);
            Assert.True((long)(await command.ExecuteScalarAsync())! >= 1);
        }

        var next = await system.SucceededBackupAsync();
        output.WriteLine(BackupSystem.Describe(next));
        Assert.Contains(next.Steps, step => step.Id == "remove leftovers" && step.Outcome.Contains("removed leftovers", StringComparison.Ordinal));

        // Only the backup that succeeded is in either engine.
        var sets = PgBackRest.ParseInfo(await system.PgBackRestAsync("--output=json", "info"), "gateway");
        Assert.Equal([next.Id], sets.Select(set => set.GatewayBackupId));
        var snapshots = Restic.ParseSnapshots((await system.ResticAsync("snapshots", "--json")).Trim());
        Assert.Equal([next.Id], snapshots.Select(snapshot => snapshot.GatewayBackupId));
        Assert.Equal(3, (await system.ListAsync()).Backups.Count);
    }

    /// <summary>pgbackrest or restic processes working on this case's repository.</summary>
    private List<string> LeftoverEngineProcesses() =>
        Directory.EnumerateDirectories("/proc").Select(dir => Path.Combine(dir, "cmdline")).Where(File.Exists)
            .Select(file => { try { return File.ReadAllText(file).Replace('\0', ' '); } catch (IOException) { return ""; } })
            .Where(command => command.Contains(system.Repository, StringComparison.Ordinal) && !command.Contains("archive-", StringComparison.Ordinal))
            .ToList();
}
