using System.Diagnostics;
using System.Globalization;
using Gateway.Backup;
using Gateway.Testing;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.Backup;

/// <summary>
/// The backup benchmarks of bench/backup/run.sh, on the real system of <see cref="BackupSystem"/>. They run only when
/// GATEWAY_BACKUP_BENCH says which ("hold", "size" or "all"): each takes minutes. The lines they print are what the
/// script turns into bench/RESULTS.md; timings are printed, never asserted (the bench reads them, not the suite).
/// </summary>
[Integration]
[Collection(BackupSystemCollection.Name)]
public sealed class BackupBenchmarks(BackupSystem system, ITestOutputHelper output)
{

    /// <summary>Ten backups in a row under 100 deposits/s: every request must succeed; each write hold is printed.</summary>
    [BenchmarkFact("GATEWAY_BACKUP_BENCH", "bench/backup/run.sh", "hold")]
    public async Task Bench_write_hold_of_ten_backups_under_load()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_BACKUP_BENCH_BACKUPS"), out var n) ? n : 10;
        await system.ResetAsync();
        await using var workload = new DepositWorkload(system.Public, "bench", depositsPerSecond: 100, readsPerSecond: 20, contentBytes: 1024);
        workload.Start();
        await Task.Delay(3000);
        var holds = new List<double>();
        for (var i = 1; i <= count; i++)
        {
            var backup = await system.SucceededBackupAsync();
            var cut = backup.Cut!;
            holds.Add(cut.Hold.TotalMilliseconds);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench hold: backup {i}: hold {cut.Hold.TotalMilliseconds:0.0} ms (drain {cut.Drain.TotalMilliseconds:0.0}, catch-up {cut.CatchUp.TotalMilliseconds:0.0}, snapshot {cut.Snapshot.TotalMilliseconds:0.0}); {backup.Files!.Files} files; backup {(backup.FinishedAt!.Value - backup.StartedAt).TotalSeconds:0.0} s"));
            await Task.Delay(1000);
        }

        await workload.StopAsync();
        var sorted = holds.Order().ToList();
        var median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench hold: {count} backups: hold median {median:0.0} ms, max {sorted[^1]:0.0} ms; {workload.Sent.Count + workload.Reads} requests ({workload.Acknowledged.Count} deposits), {workload.Failures.Count} failed {workload.FailureReasons()}"));
        Assert.Empty(workload.Failures);
    }

    /// <summary>
    /// A 1 GiB database and 10,000 files (1 GiB) backed up by the gateway, against pg_basebackup (from the standby) and
    /// rsync -a (of the replica SAN) of the same data in the same run; twice, the second time after a few changes.
    /// </summary>
    [BenchmarkFact("GATEWAY_BACKUP_BENCH", "bench/backup/run.sh", "size")]
    public async Task Bench_a_gibibyte_of_database_and_of_files_against_pg_basebackup_and_rsync()
    {
        await system.ResetAsync();
        var setup = Stopwatch.StartNew();
        await FillDatabaseAsync(rows: int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_BACKUP_BENCH_ROWS"), out var rows) ? rows : 1_000_000);
        await WriteFilesAsync(0, 10_000, 100 * 1024 + 880);
        output.WriteLine($"bench size: setup {setup.Elapsed.TotalSeconds:0} s: database {await DatabaseBytesAsync()} bytes, {Directory.EnumerateFiles(system.Settings.SanB, "*", SearchOption.AllDirectories).Count()} files {DirectoryBytes(system.Settings.SanB)} bytes on the replica SAN");

        for (var round = 1; round <= 2; round++)
        {
            if (round == 2)
            {
                await system.Postgres.Primary.ExecuteAsync("UPDATE bulk SET payload = md5(payload) || substr(payload, 33) WHERE id % 100 = 0", "broker");
                await WriteFilesAsync(10_000, 100, 100 * 1024 + 880);
                await WaitForStandbyAsync();
            }

            var baseline = await BaselineAsync(round);
            output.WriteLine($"bench size: round {round} baseline: {baseline}");
            var repositoryBefore = DirectoryBytes(system.Repository);
            var backup = await system.SucceededBackupAsync();
            var step = backup.Steps.ToDictionary(s => s.Id ?? s.Step, s => s.Duration.TotalSeconds);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench size: round {round}: {baseline}; gateway backup {(backup.FinishedAt!.Value - backup.StartedAt).TotalSeconds:0.0} s (prepare {step["prepare"]:0.0}, database {step["back up the database"]:0.0}, hold {backup.Cut!.Hold.TotalMilliseconds:0} ms, WAL {step["archive WAL"]:0.0}, files {step["back up the files"]:0.0}, retention {step["apply retention"]:0.0}), repository +{DirectoryBytes(system.Repository) - repositoryBefore} bytes"));
        }
    }

    private async Task<string> BaselineAsync(int round)
    {
        var copies = Path.Combine(system.Settings.Root, $"baseline-{round}");
        var basebackup = Path.Combine(copies, "pgdata");
        Directory.CreateDirectory(copies);
        await ProcessRunner.RunAsync("chown", ["postgres:", copies]);
        var clock = Stopwatch.StartNew();
        await ProcessRunner.RunAsPostgresAsync("pg_basebackup", "-h", system.Postgres.Standby.Host, "-p", system.Postgres.Standby.Port.ToString(), "-U", "postgres",
            "-D", basebackup, "-X", "stream", "-c", "fast");
        var pgBasebackup = clock.Elapsed;
        // rsync's own incremental copy: the second round copies into the first round's tree.
        var rsyncTarget = Path.Combine(system.Settings.Root, "baseline-files");
        clock.Restart();
        await ProcessRunner.RunAsync("rsync", ["-a", system.Settings.SanB + "/", rsyncTarget + "/"], TimeSpan.FromMinutes(30));
        var rsync = clock.Elapsed;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"pg_basebackup {pgBasebackup.TotalSeconds:0.0} s ({DirectoryBytes(basebackup)} bytes) + rsync -a {rsync.TotalSeconds:0.0} s ({DirectoryBytes(rsyncTarget)} bytes) = {(pgBasebackup + rsync).TotalSeconds:0.0} s");
        Directory.Delete(copies, recursive: true);
        return line;
    }

    /// <summary>Rows of 30 distinct MD5s each (960 characters, under the TOAST threshold: stored as they are).</summary>
    private async Task FillDatabaseAsync(int rows)
    {
        var payload = string.Join(" || ", Enumerable.Range(1, 30).Select(k => $"md5((g * {k})::text)"));
        await system.Postgres.Primary.ExecuteAsync("CREATE TABLE bulk (id bigint PRIMARY KEY, payload text NOT NULL)", "broker");
        const int chunk = 100_000;
        for (var from = 1; from <= rows; from += chunk)
        {
            await system.Postgres.Primary.ExecuteAsync($"INSERT INTO bulk SELECT g, {payload} FROM generate_series({from}, {Math.Min(rows, from + chunk - 1)}) g", "broker");
        }

        await system.Postgres.Primary.ExecuteAsync("CHECKPOINT");
        await WaitForStandbyAsync();
    }

    private async Task WaitForStandbyAsync()
    {
        var target = await system.Postgres.Primary.ScalarAsync<string>("SELECT pg_current_wal_lsn()::text");
        while (!await system.Postgres.Standby.ScalarAsync<bool>($"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"))
        {
            await Task.Delay(500);
        }
    }

    /// <summary>Random (incompressible) files written on SAN A, a hundred to a directory, and waited for on SAN B.</summary>
    private async Task WriteFilesAsync(int first, int count, int bytes)
    {
        var content = new byte[bytes];
        for (var i = first; i < first + count; i++)
        {
            var directory = Path.Combine(system.Settings.SanA, "bulk", (i / 100).ToString("D3"));
            Directory.CreateDirectory(directory);
            Random.Shared.NextBytes(content);
            await File.WriteAllBytesAsync(Path.Combine(directory, $"file-{i:D5}"), content);
        }

        var expected = first + count;
        var giveUpAt = DateTime.UtcNow.AddMinutes(30);
        while (Directory.Exists(Path.Combine(system.Settings.SanB, "bulk"))
                   ? Directory.EnumerateFiles(Path.Combine(system.Settings.SanB, "bulk"), "file-*", SearchOption.AllDirectories).Count() < expected
                   : true)
        {
            Assert.True(DateTime.UtcNow < giveUpAt, "the replica did not catch up within 30 minutes");
            await Task.Delay(1000);
        }

        output.WriteLine($"bench size: {count} files written on SAN A and replicated to B");
    }

    private Task<long> DatabaseBytesAsync() => system.Postgres.Primary.ScalarAsync<long>("SELECT pg_database_size('broker')");

    private static long DirectoryBytes(string directory) =>
        Directory.Exists(directory) ? new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(file => file.Length) : 0;
}
