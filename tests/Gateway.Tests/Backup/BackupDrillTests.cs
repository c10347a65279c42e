using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gateway.Backup;
using Gateway.Testing;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Npgsql;
using Xunit.Abstractions;

namespace Gateway.Tests.Backup;

/// <summary>A backup taken under load, then restored: the restore point and the file snapshot are one instant.</summary>
[Integration]
[Collection(BackupSystemCollection.Name)]
public sealed class BackupDrillTests(BackupSystem system, ITestOutputHelper output)
{
    [Fact]
    public async Task A_backup_under_load_fails_no_request_and_its_restore_has_every_deposit_acknowledged_before_the_hold_and_none_sent_after_it()
    {
        await system.ResetAsync();
        await using var workload = new DepositWorkload(system.Public, "drill", depositsPerSecond: 50, readsPerSecond: 20, contentBytes: 2048);
        var origin = DateTimeOffset.UtcNow - workload.Now;
        workload.Start();
        await Task.Delay(2000);
        var backupCall = system.SucceededBackupAsync("backup-record.json");
        await system.CaptureProgressAsync("backup-list-running.json");
        var backup = await backupCall;
        await Task.Delay(1500);
        await workload.StopAsync();
        output.WriteLine(backup.Summary);
        output.WriteLine(BackupSystem.Describe(backup));

        Assert.True(workload.Failures.Count == 0, workload.FailureReasons());
        var cut = backup.Cut!;
        Assert.Equal("replica SAN of B", cut.SnapshotSource);
        Assert.Equal("A", cut.PrimarySite);
        Assert.Equal("B", backup.Database!.FromSite);
        Assert.StartsWith("pgBackRest 2.", backup.Database.Tool);
        Assert.StartsWith("restic 0.", backup.Files!.Tool);

        // The drill: a throw-away PostgreSQL on the restored copy, checked by deploy/backup/verify-deposits.sh.
        var drillResponse = await system.Admin.PostAsJsonAsync($"/admin/backups/{backup.Id}/verify", new { });
        await BackupSystem.CaptureAsync("backup-drill.json", drillResponse);
        var drill = await BackupSystem.ReadAsync<VerifyRecord>(drillResponse);
        Assert.True(drill.Passed, $"{drill.Summary}\n{string.Join('\n', drill.Steps.Select(s => $"  {s.Step}: {s.Outcome}"))}");
        Assert.Contains("verify-deposits:", drill.Summary);

        // A restore into a directory, read here: by time, on the workload's clock.
        var target = Path.Combine(system.Settings.Root, "restored");
        var restoreResponse = await system.Admin.PostAsJsonAsync($"/admin/backups/{backup.Id}/restore", new { to = target });
        await BackupSystem.CaptureAsync("backup-restore-report.json", restoreResponse);
        var restore = await BackupSystem.ReadAsync<RestoreReport>(restoreResponse);
        Assert.True(restore.Succeeded, restore.Summary);
        var restored = await RestoredDepositsAsync(Path.Combine(target, "pgdata"));

        var heldAt = cut.HeldAt - origin;
        var releasedAt = heldAt + cut.Hold;
        var before = workload.Acknowledged.Where(a => a.At < heldAt).ToList();
        var sentAfter = workload.Sent.Values.Where(s => s.At > releasedAt).Select(s => s.Name).ToHashSet();
        output.WriteLine($"{workload.Acknowledged.Count} deposits acknowledged; {before.Count} before the hold, {sentAfter.Count} sent after it; {restored.Count} rows restored; hold {cut.Hold.TotalMilliseconds:0} ms");
        Assert.True(before.Count > 50 && sentAfter.Count > 20, "the workload must straddle the cut");
        foreach (var deposit in before)
        {
            Assert.True(restored.TryGetValue(deposit.Id, out var row), $"deposit {deposit.Id} acknowledged {(heldAt - deposit.At).TotalMilliseconds:0} ms before the hold is not in the restored database");
            Assert.Equal(deposit.Sha256, row.Sha256);
            var file = Path.Combine(target, "files", "deposits", deposit.Id.ToString());
            Assert.True(File.Exists(file), $"deposit {deposit.Id}'s file is not in the restored file tree");
            Assert.Equal(deposit.Sha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file))));
        }

        Assert.DoesNotContain(restored.Values, row => sentAfter.Contains(row.Name));
        var restoredFiles = Directory.EnumerateFiles(Path.Combine(target, "files", "deposits")).Select(Path.GetFileName).ToHashSet();
        Assert.Equal(restored.Keys.Select(id => id.ToString()).Order(), restoredFiles.Order());

        await AssertMetricsAsync(backup, drill);
    }

    /// <summary>What /metrics says after one backup and one passed drill, and that promtool accepts it.</summary>
    private async Task AssertMetricsAsync(BackupRecord backup, VerifyRecord drill)
    {
        var scrape = await MetricsScrape.FetchAsync(system.Admin.BaseAddress!);
        Assert.Equal(backup.FinishedAt!.Value.ToUnixTimeSeconds(), scrape.Value("gateway_backup_last_success_timestamp_seconds"));
        Assert.Equal(backup.Cut!.Hold.TotalSeconds, scrape.Value("gateway_backup_last_hold_seconds"), 6);
        Assert.Equal(backup.Database!.DatabaseBytes, scrape.Value("gateway_backup_last_size_bytes{part=\"database\"}"));
        Assert.Equal(backup.Files!.Bytes, scrape.Value("gateway_backup_last_size_bytes{part=\"files\"}"));
        Assert.Equal(1, scrape.Value("gateway_backups_total{result=\"succeeded\"}"));
        Assert.Equal(0, scrape.Value("gateway_backups_total{result=\"failed\"}"));
        Assert.Equal(0, scrape.Value("gateway_backup_last_failed"));
        Assert.Equal(1, scrape.Value("gateway_backup_verifications_total{result=\"passed\"}"));
        Assert.Equal(drill.At.ToUnixTimeSeconds(), scrape.Value("gateway_backup_last_verify_success_timestamp_seconds"));
        Assert.Equal(0, scrape.Value("gateway_backup_last_verify_failed"));
        Assert.Equal(26 * 3600, scrape.Value("gateway_backup_max_age_seconds"));
        Assert.Equal(1, scrape.Value("gateway_backup_hold_duration_seconds_count"));
        await PrometheusTools.CheckMetricsAsync(scrape.Text);
    }

    /// <summary>Starts the restored (promoted, stopped) data directory on a port of its own and reads every deposit row.</summary>
    private static async Task<Dictionary<Guid, (string Name, string Sha256)>> RestoredDepositsAsync(string pgdata)
    {
        var node = new PostgresNode("restored", pgdata, FreePort.Next());
        await ProcessRunner.RunAsPostgresAsync("pg_ctl", "-D", pgdata, "-l", Path.Combine(pgdata, "test.log"), "-o", $"-p {node.Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''", "-w", "start");
        try
        {
            await using var connection = new NpgsqlConnection(node.ConnectionString("broker"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT id, name, sha256 FROM deposits", connection);
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new Dictionary<Guid, (string, string)>();
            while (await reader.ReadAsync())
            {
                rows[reader.GetGuid(0)] = (reader.GetString(1), reader.GetString(2));
            }

            return rows;
        }
        finally
        {
            await node.StopAsync("immediate");
        }
    }
}
