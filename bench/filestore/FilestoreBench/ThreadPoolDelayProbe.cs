using System.Collections.Concurrent;
using System.Diagnostics;

namespace FilestoreBench;

/// <summary>
/// How long a work item queued to the thread pool waits before a pool thread starts it, while a copy runs in the
/// same process. In the gateway the replicator shares the pool with the proxy, so this is the wait a proxied
/// request's continuation would have had meanwhile. Open loop: a thread of the probe's own queues an item every
/// 5 ms whether or not the earlier ones have started, and each item's wait is counted from when it was due (or
/// queued, if earlier), so a stall of the pool shows up in every item it held back, not just one.
/// </summary>
internal sealed class ThreadPoolDelayProbe
{
    private static readonly long Interval = Stopwatch.Frequency / 200;

    private readonly ConcurrentQueue<double> _delaysMs = new();
    private readonly Thread _sampler;
    private volatile bool _stopping;

    public ThreadPoolDelayProbe()
    {
        _sampler = new Thread(QueueUntilStopped) { IsBackground = true, Name = "thread-pool delay probe" };
        _sampler.Start();
    }

    /// <summary>Stops queueing; returns "samples N p50_ms … p99_ms … max_ms … over_10ms …" over the items that started.</summary>
    public string Stop()
    {
        _stopping = true;
        _sampler.Join();
        var sorted = _delaysMs.Order().ToList();
        return $"samples {sorted.Count} p50_ms {Statistics.Percentile(sorted, 0.50):F2} p99_ms {Statistics.Percentile(sorted, 0.99):F2} "
            + $"max_ms {sorted.LastOrDefault():F1} over_10ms {sorted.Count(delay => delay > 10)}";
    }

    private void QueueUntilStopped()
    {
        for (var due = Stopwatch.GetTimestamp(); !_stopping; due += Interval)
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                Thread.Sleep(wait);
            }

            // Thread.Sleep wakes up to a millisecond early: an item queued early counts from then, one queued late from when it was due.
            var from = Math.Min(due, Stopwatch.GetTimestamp());
            ThreadPool.UnsafeQueueUserWorkItem(_ => _delaysMs.Enqueue(Stopwatch.GetElapsedTime(from).TotalMilliseconds), null);
        }
    }
}
