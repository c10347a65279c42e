using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Filestore;
using Microsoft.Extensions.Logging.Abstractions;

namespace FilestoreBench;

/// <summary>
/// A steady write load on SAN A, written the way the broker writes (temp file, fsync, rename), while the replicator
/// runs to SAN B. Lag of a file: from its rename on A to the rename that puts its copy in place on B, seen by a
/// watcher on B. Reported as p50, p99 and max over every file, after everything has arrived.
/// </summary>
public static class LagBenchmark
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var rate = arguments.Int("rate", 200);
        var size = arguments.Int("size", 64 * 1024);
        var seconds = arguments.Int("seconds", 60);
        var options = new ReplicationOptions { MaxParallelCopies = arguments.Int("parallel", 4) };
        var root = arguments.RunDirectory("lag");
        var (sanA, sanB) = (Directory.CreateDirectory(Path.Combine(root, "san-a")).FullName, Directory.CreateDirectory(Path.Combine(root, "san-b")).FullName);
        try
        {
            var written = new ConcurrentDictionary<string, long>();
            var arrived = new ConcurrentDictionary<string, long>();
            using var arrivals = WatchArrivals(sanB, arrived);
            await using var replicator = new FilestoreReplicator(new ReplicationDirection("A", sanA, "B", sanB), options, TimeProvider.System, NullLogger<FilestoreReplicator>.Instance);
            replicator.Start();
            await replicator.WaitUntilCaughtUpAsync(CancellationToken.None);

            var achieved = await WriteSteadilyAsync(sanA, rate, size, TimeSpan.FromSeconds(seconds), written);
            var settled = Stopwatch.StartNew();
            while (arrived.Count < written.Count && settled.Elapsed < TimeSpan.FromMinutes(2))
            {
                await Task.Delay(50);
            }

            var lags = written.Where(w => arrived.ContainsKey(w.Key))
                .Select(w => Stopwatch.GetElapsedTime(w.Value, arrived[w.Key]).TotalMilliseconds)
                .Order()
                .ToList();
            var status = replicator.Status;
            Console.WriteLine(
                $"lag rate {rate} achieved {achieved:F1} size {size} seconds {seconds} parallel {options.MaxParallelCopies} files {written.Count} " +
                $"arrived {lags.Count} p50_ms {Statistics.Percentile(lags, 0.50):F1} p90_ms {Statistics.Percentile(lags, 0.90):F1} p99_ms {Statistics.Percentile(lags, 0.99):F1} " +
                $"max_ms {lags.LastOrDefault():F1} overflows {status.ChangeEventOverflows} watcher_restarts {status.WatcherRestarts} alarm {status.Alarm ?? "none"}");
            return lags.Count == written.Count ? 0 : 1;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static FileSystemWatcher WatchArrivals(string sanB, ConcurrentDictionary<string, long> arrived)
    {
        var watcher = new FileSystemWatcher(sanB) { NotifyFilter = NotifyFilters.FileName };
        // The replicator renames its temp file into place: that rename is the moment a reader on B can see the file.
        watcher.Renamed += (_, e) => arrived.TryAdd(e.Name!, Stopwatch.GetTimestamp());
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    /// <returns>The rate achieved (files per second): lower than asked when the disk cannot keep up.</returns>
    private static async Task<double> WriteSteadilyAsync(string sanA, int rate, int size, TimeSpan duration, ConcurrentDictionary<string, long> written)
    {
        var content = new byte[size];
        Random.Shared.NextBytes(content);
        var count = (int)(rate * duration.TotalSeconds);
        var interval = TimeSpan.FromSeconds(1.0 / rate);
        var started = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var due = interval * i;
            if (due > started.Elapsed)
            {
                await Task.Delay(due - started.Elapsed);
            }

            var name = $"deposit-{i:D6}";
            var temp = Path.Combine(sanA, $".{name}.tmp");
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                await file.WriteAsync(content);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, Path.Combine(sanA, name));
            written[name] = Stopwatch.GetTimestamp();
        }

        return count / started.Elapsed.TotalSeconds;
    }
}
