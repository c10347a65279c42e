using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gateway.Backup;
using Gateway.Coordinator.Switching;
using Gateway.Tests.EndToEnd;
using Npgsql;
using Xunit.Abstractions;

namespace Gateway.Tests.Backup;

/// <summary>The disaster the issue describes: every deposit row and file deleted through the service, a site rebuilt from the last backup, the service moved there.</summary>
[Integration]
[Collection(BackupSystemCollection.Name)]
public sealed class SiteRestoreTests(BackupSystem system, ITestOutputHelper output)
{
    [Fact]
    public async Task After_every_deposit_row_and_file_is_deleted_site_B_rebuilt_from_the_last_backup_and_a_failover_bring_the_deposits_back()
    {
        await system.ResetAsync();
        var deposits = new Dictionary<Guid, string>();
        for (var i = 0; i < 20; i++)
        {
            var content = RandomNumberGenerator.GetBytes(3000 + i);
            using var response = await system.Public.PostAsync($"/deposits?name=precious-{i}", new ByteArrayContent(content));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            deposits[(await response.Content.ReadFromJsonAsync<Receipt>())!.Id] = Convert.ToHexStringLower(SHA256.HashData(content));
        }

        var backup = await system.SucceededBackupAsync();

        // The disaster, through the service's own paths: a DELETE through the PG write endpoint, the files through the filestore link.
        await using (var connection = new NpgsqlConnection(TwoSiteSystem.ThroughGateway(system.Settings.PgWritePort) + ";Pooling=false"))
        {
            await connection.OpenAsync();
            await using var delete = new NpgsqlCommand("DELETE FROM deposits", connection);
            Assert.Equal(20, await delete.ExecuteNonQueryAsync());
        }

        foreach (var file in Directory.EnumerateFiles(Path.Combine(system.Settings.FilestoreLink, "deposits")))
        {
            File.Delete(file);
        }

        var gone = deposits.Keys.First();
        Assert.Equal(HttpStatusCode.NotFound, (await system.Public.GetAsync($"/deposits/{gone}")).StatusCode);

        var restoreResponse = await system.Admin.PostAsJsonAsync($"/admin/backups/{backup.Id}/restore", new { site = "B" });
        var restore = await BackupSystem.ReadAsync<RestoreReport>(restoreResponse);
        output.WriteLine(restore.Summary);
        foreach (var step in restore.Steps)
        {
            output.WriteLine($"  {step.Step}: {step.Duration.TotalMilliseconds:0} ms: {step.Outcome}");
        }

        Assert.True(restore.Succeeded, restore.Summary);
        Assert.Contains("gatewayctl failover --to B --force", restore.Summary);

        using var failover = await system.Admin.PostAsJsonAsync("/admin/failover", new { to = "B", force = true });
        var switched = await BackupSystem.ReadAsync<SiteSwitchReport>(failover);
        output.WriteLine(switched.Summary);
        Assert.True(switched.Succeeded, switched.Summary);
        await system.Gateway!.WaitForAsync(status => status.ActiveSite == "B" && status.Instances.Any(i => i.Site == "B" && i.Health == "Healthy"), "B active", TimeSpan.FromSeconds(30));

        foreach (var (id, sha256) in deposits)
        {
            var bytes = await system.Public.GetByteArrayAsync($"/deposits/{id}/content");
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }

        using var after = await system.Public.PostAsync("/deposits?name=after-the-restore", new ByteArrayContent([42]));
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        Assert.DoesNotContain((await system.Gateway.StatusAsync()).Alarms, alarm => alarm.Key == Gateway.Database.Failover.DatabaseSupervisor.SplitBrainAlarm);
    }

    private sealed record Receipt(Guid Id);
}
