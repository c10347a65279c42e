using System.Diagnostics;
using Gateway.Filestore;
using Microsoft.Extensions.Logging.Abstractions;

namespace FilestoreBench;

/// <summary>
/// One tree (--files files in 100 directories, --bytes in all, sizes spread from a tenth to twice the mean), copied
/// to an empty directory by the replicator's initial sync and by rsync, in the same run: rsync -a as such, rsync -a
/// followed by sync (rsync -a alone leaves the data in the page cache), and rsync -a --fsync (durable per file, as the
/// replicator is). The page cache is dropped before each, so every copy reads the tree from disk. During each copy a
/// <see cref="ThreadPoolDelayProbe"/> measures how long the process's thread pool makes work wait: with the
/// replicator copying in-process, and as a baseline with rsync copying in another process.
/// </summary>
public static class InitialSyncBenchmark
{
    private const int Directories = 100;

    private static readonly (string Name, string Command)[] RsyncVariants =
    [
        ("rsync-a", "rsync -a {0}/ {1}/"),
        ("rsync-a+sync", "rsync -a {0}/ {1}/ && sync"),
        ("rsync-a--fsync", "rsync -a --fsync {0}/ {1}/"),
    ];

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var files = arguments.Int("files", 10_000);
        var bytes = arguments.Long("bytes", 1L << 30);
        var parallel = arguments.Int("parallel", 4);
        var rounds = arguments.Int("rounds", 1);
        var root = arguments.RunDirectory("initial-sync");
        try
        {
            var source = Path.Combine(root, "source");
            var written = WriteTree(source, files, bytes);
            Console.WriteLine($"tree files {files} bytes {written} directories {Directories}");

            // Every copy of a round runs against the same machine load; the ratios are taken within a round, their median across rounds.
            var ratios = RsyncVariants.ToDictionary(variant => variant.Name, _ => new List<double>());
            var replicatorSeconds = new List<double>();
            var identical = true;
            for (var round = 1; round <= rounds; round++)
            {
                var replica = Path.Combine(root, "replica");
                var (replicator, replicatorPoolDelay) = await TimeAsync(() => ReplicateAsync(source, replica, parallel));
                replicatorSeconds.Add(replicator);
                Console.WriteLine($"round {round} copy replicator parallel {parallel} seconds {replicator:F2} mb_per_s {written / 1e6 / replicator:F1}");
                Console.WriteLine($"round {round} thread_pool_delay during replicator {replicatorPoolDelay}");
                var verification = await FilestoreVerifier.CompareAsync(source, replica);
                Console.WriteLine($"round {round} verify replicator identical {verification.Identical} differences {verification.Differences.Count}");
                identical &= verification.Identical;
                Directory.Delete(replica, recursive: true);

                foreach (var (name, command) in RsyncVariants)
                {
                    var target = Path.Combine(root, name);
                    var (seconds, poolDelay) = await TimeAsync(() => ShellAsync(string.Format(command, source, target)));
                    ratios[name].Add(seconds / replicator);
                    Console.WriteLine($"round {round} copy {name} seconds {seconds:F2} mb_per_s {written / 1e6 / seconds:F1} replicator_speed_ratio {seconds / replicator:F2}");
                    Console.WriteLine($"round {round} thread_pool_delay during {name} {poolDelay}");
                    Directory.Delete(target, recursive: true);
                }
            }

            Console.WriteLine($"median of {rounds} round(s): parallel {parallel} replicator_seconds {Statistics.Median(replicatorSeconds):F2} "
                + string.Join(' ', RsyncVariants.Select(variant => $"replicator_speed_ratio_vs_{variant.Name} {Statistics.Median(ratios[variant.Name]):F2}")));
            return identical ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static long WriteTree(string source, int files, long bytes)
    {
        var random = new Random(10_000);
        var mean = bytes / files;
        var content = new byte[2 * mean];
        random.NextBytes(content);
        long written = 0;
        for (var i = 0; i < files; i++)
        {
            var directory = Directory.CreateDirectory(Path.Combine(source, $"d{i % Directories:D3}")).FullName;
            var size = random.NextInt64(mean / 10, 2 * mean - mean / 10 + 1);
            // Each file differs (its index up front) so that nothing below can take a shortcut on identical content.
            BitConverter.TryWriteBytes(content, i);
            File.WriteAllBytes(Path.Combine(directory, $"f{i:D6}"), content.AsSpan(0, (int)size).ToArray());
            written += size;
        }

        return written;
    }

    private static async Task ReplicateAsync(string source, string target, int parallel)
    {
        Directory.CreateDirectory(target);
        var options = new ReplicationOptions { MaxParallelCopies = parallel };
        await using var replicator = new FilestoreReplicator(new ReplicationDirection("A", source, "B", target), options, TimeProvider.System, NullLogger<FilestoreReplicator>.Instance);
        replicator.Start();
        await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);
    }

    /// <summary>Seconds taken by <paramref name="copy"/>, starting from a cold page cache and nothing pending on disk, and the thread pool's delays meanwhile.</summary>
    private static async Task<(double Seconds, string PoolDelay)> TimeAsync(Func<Task> copy)
    {
        await ShellAsync("sync && echo 3 > /proc/sys/vm/drop_caches");
        var probe = new ThreadPoolDelayProbe();
        var watch = Stopwatch.StartNew();
        try
        {
            await copy();
        }
        catch
        {
            probe.Stop();
            throw;
        }

        var seconds = watch.Elapsed.TotalSeconds;
        return (seconds, probe.Stop());
    }

    private static async Task ShellAsync(string command)
    {
        using var process = Process.Start("bash", ["-c", command]);
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{command}' exited {process.ExitCode}");
        }
    }
}
