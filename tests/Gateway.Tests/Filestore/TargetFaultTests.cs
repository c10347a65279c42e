using Gateway.Filestore;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Filestore;

/// <summary>SAN B failing under the real gateway's replicator: full, then unwritable. Each is alarmed, retried and repaired.</summary>
[Integration]
public sealed class TargetFaultTests
{
    private const int Files = 10;
    private const int FileBytes = 512 * 1024;

    /// <summary>
    /// SAN B on a 2 MiB tmpfs, SAN A holding 5 MiB, replicated by the real gateway. While B is full, the status says
    /// so in words, /metrics shows the alarm and the backlog, and no final name on B ever holds part of a file; once
    /// the file system is grown, B converges and the alarm clears.
    /// </summary>
    [TmpfsFact]
    public async Task A_full_target_raises_the_alarm_in_status_and_metrics_shows_no_partial_file_and_converges_once_space_is_freed()
    {
        using var settings = FilestoreOnlyGateway.Settings();
        await using var tmpfs = await TmpfsMount.MountAsync(settings.SanB, "2m");
        var sizes = Enumerable.Range(0, Files).ToDictionary(i => $"f{i}", _ => (long)FileBytes);
        foreach (var name in sizes.Keys)
        {
            ReplicaOnDisk.WriteRandom(Path.Combine(settings.SanA, name), FileBytes);
        }

        using var watching = new CancellationTokenSource();
        var partialFiles = Task.Run(() => ReplicaOnDisk.PartialFilesUnderFinalNames(settings.SanA, settings.SanB, sizes, watching.Token));
        await using var gateway = await RunningGateway.StartAsync(settings);
        var replication = gateway.Host.Public.Services.GetRequiredService<FilestoreReplication>();
        var adminUrl = new Uri($"http://127.0.0.1:{settings.AdminPort}");

        await Eventually.HoldsAsync(
            () => replication.Status is { State: ReplicationState.Degraded, Alarm: { } alarm } && alarm.Contains("because the disk was full", StringComparison.Ordinal),
            () => $"no alarm for the full target: {replication.Status}");
        var degraded = replication.Status!;
        Assert.StartsWith($"target {settings.SanB} failing for ", degraded.Alarm);
        Assert.True(degraded.PendingFiles > 0 && degraded.PendingBytes > 0, $"{degraded}");
        var whileFull = await MetricsScrape.FetchAsync(adminUrl);
        Assert.Equal(1, FilestoreSample(whileFull, "gateway_filestore_replication_alarm"));
        Assert.True(FilestoreSample(whileFull, "gateway_filestore_backlog_files") > 0, whileFull.Text);

        await tmpfs.ResizeAsync("16m");

        await AssertConvergedAsync(replication, settings, adminUrl, watching, partialFiles);
    }

    /// <summary>
    /// SAN B's file system remounted read-only (EROFS, which stops root too, where permissions would not) while new
    /// files arrive on A: the status names the error, /metrics shows the alarm, nothing half-written appears; once B
    /// is writable again every file arrives and the alarm clears.
    /// </summary>
    [TmpfsFact]
    public async Task An_unwritable_target_raises_the_alarm_naming_the_error_and_converges_once_writable_again()
    {
        using var settings = FilestoreOnlyGateway.Settings();
        await using var tmpfs = await TmpfsMount.MountAsync(settings.SanB, "16m");
        await using var gateway = await RunningGateway.StartAsync(settings);
        var replication = gateway.Host.Public.Services.GetRequiredService<FilestoreReplication>();
        var adminUrl = new Uri($"http://127.0.0.1:{settings.AdminPort}");
        await Eventually.HoldsAsync(
            () => replication.Status is { State: ReplicationState.Streaming, Alarm: null },
            () => $"the replicator of an empty tree did not start streaming: {replication.Status}");

        await tmpfs.RemountAsync("ro");
        var sizes = Enumerable.Range(0, Files).ToDictionary(i => $"f{i}", _ => (long)FileBytes);
        foreach (var name in sizes.Keys)
        {
            ReplicaOnDisk.WriteRandom(Path.Combine(settings.SanA, name), FileBytes);
        }

        // Started once A holds the files (it hashes them first); B can take none of them before the remount anyway.
        using var watching = new CancellationTokenSource();
        var partialFiles = Task.Run(() => ReplicaOnDisk.PartialFilesUnderFinalNames(settings.SanA, settings.SanB, sizes, watching.Token));

        await Eventually.HoldsAsync(
            () => replication.Status is { State: ReplicationState.Degraded, Alarm: { } alarm } && alarm.Contains("Read-only file system", StringComparison.Ordinal),
            () => $"no alarm naming the read-only target: {replication.Status}");
        var degraded = replication.Status!;
        Assert.StartsWith($"target {settings.SanB} failing for ", degraded.Alarm);
        Assert.True(degraded.PendingFiles > 0, $"{degraded}");
        Assert.Equal(1, FilestoreSample(await MetricsScrape.FetchAsync(adminUrl), "gateway_filestore_replication_alarm"));
        Assert.Empty(ReplicaOnDisk.FinalFilesWithHashes(settings.SanB));

        await tmpfs.RemountAsync("rw");

        await AssertConvergedAsync(replication, settings, adminUrl, watching, partialFiles);
    }

    /// <summary>Once the fault is gone: B holds A's files and no temp file, the alarm is cleared, and no final name ever showed part of a file.</summary>
    private static async Task AssertConvergedAsync(
        FilestoreReplication replication, GatewaySettings settings, Uri adminUrl, CancellationTokenSource watching, Task<List<string>> partialFiles)
    {
        await Eventually.HoldsAsync(
            () => replication.Status is { State: ReplicationState.Streaming, Alarm: null, PendingFiles: 0 }
                && ReplicaOnDisk.FinalFilesWithHashes(settings.SanB).Count == Files,
            () => $"{replication.Status}");
        await watching.CancelAsync();
        Assert.Empty(await partialFiles);
        Assert.Equal(ReplicaOnDisk.FinalFilesWithHashes(settings.SanA), ReplicaOnDisk.FinalFilesWithHashes(settings.SanB));
        Assert.Empty(ReplicaOnDisk.TempFiles(settings.SanB));
        Assert.Equal(0, FilestoreSample(await MetricsScrape.FetchAsync(adminUrl), "gateway_filestore_replication_alarm"));
    }

    /// <summary>The one sample of a filestore series (labelled source A, target B).</summary>
    private static double FilestoreSample(MetricsScrape scrape, string name) =>
        scrape.Samples.Single(sample => sample.Key.StartsWith(name + "{", StringComparison.Ordinal)).Value;
}
