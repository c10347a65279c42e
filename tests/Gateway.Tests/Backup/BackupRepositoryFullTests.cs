using System.Net;
using System.Net.Http.Json;
using Gateway.Backup;
using Gateway.Testing;
using Xunit.Abstractions;

namespace Gateway.Tests.Backup;

/// <summary>The repository's file system full: a small tmpfs of its own, filled to the last byte after a first backup.</summary>
[Integration]
[Collection(BackupSystemCollection.Name)]
public sealed class BackupRepositoryFullTests(BackupSystem system, ITestOutputHelper output)
{
    [Fact]
    public async Task A_full_repository_fails_the_backup_with_a_clear_error_and_an_alarm_and_the_earlier_backup_stays_restorable()
    {
        var mount = Path.Combine(system.Settings.Root, "small-repository");
        Directory.CreateDirectory(mount);
        await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=96m,mode=0755", "tmpfs", mount]);
        try
        {
            await system.ResetAsync(values =>
            {
                values["Gateway:Backup:RepositoryPath"] = mount;
                values["Gateway:Backup:MinFreeSpace"] = (4 * 1024 * 1024).ToString();
            });
            await DepositAsync("before", 20, 4096);
            var earlier = await system.SucceededBackupAsync();

            // Room for the database part, not for 40 MiB of new files: restic runs out of space in the middle.
            var free = new DriveInfo(mount).AvailableFreeSpace;
            await ProcessRunner.RunAsync("fallocate", ["-l", (free - 24 * 1024 * 1024).ToString(), Path.Combine(mount, "filler-1")]);
            await DepositAsync("big", 10, 4 * 1024 * 1024);
            var midway = await FailedBackupAsync();
            Assert.Contains("no space left on device", midway.Summary, StringComparison.OrdinalIgnoreCase);

            // Full to the last byte (dd stops at ENOSPC, which is the point): refused before anything is written.
            await Assert.ThrowsAsync<InvalidOperationException>(() => ProcessRunner.RunAsync("dd", ["if=/dev/zero", $"of={Path.Combine(mount, "filler-2")}", "bs=1M"]));
            var full = await FailedBackupAsync("backup-failed-full.json");
            Assert.Contains("the repository's file system is full: 0 bytes free", full.Summary);
            var status = await system.Gateway!.StatusAsync();
            Assert.Contains(status.Alarms, alarm => alarm.Key == BackupRunner.FailedAlarm && alarm.Message.Contains(full.Id, StringComparison.Ordinal));
            var scrape = await Observability.MetricsScrape.FetchAsync(system.Admin.BaseAddress!);
            Assert.Equal(1, scrape.Value("gateway_backup_last_failed"));
            Assert.Equal(2, scrape.Value("gateway_backups_total{result=\"failed\"}"));

            // The earlier backup is listed as it was, and its restore drill passes from the full repository.
            var list = await system.ListAsync();
            Assert.Equal([BackupStatus.Succeeded, BackupStatus.Failed, BackupStatus.Failed], list.Backups.Select(b => b.Status));
            var drill = await BackupSystem.ReadAsync<VerifyRecord>(await system.Admin.PostAsJsonAsync($"/admin/backups/{earlier.Id}/verify", new { }));
            Assert.True(drill.Passed, drill.Summary);
        }
        finally
        {
            await system.StopGatewayAsync();
            await ProcessRunner.RunAsync("umount", ["-l", mount]);
        }
    }

    private async Task<BackupRecord> FailedBackupAsync(string? sample = null)
    {
        var (response, failed) = await system.BackupAsync(sample);
        output.WriteLine(failed.Summary);
        output.WriteLine(BackupSystem.Describe(failed));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(BackupStatus.Failed, failed.Status);
        return failed;
    }

    private async Task DepositAsync(string prefix, int count, int bytes)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await system.Public.PostAsync($"/deposits?name={prefix}-{i}", new ByteArrayContent(System.Security.Cryptography.RandomNumberGenerator.GetBytes(bytes)));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
    }
}
