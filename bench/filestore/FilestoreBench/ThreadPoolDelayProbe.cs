using System.Diagnostics;

namespace FilestoreBench;

/// <summary>
/// How long a work item queued to the thread pool waits before a pool thread starts it, sampled every 5 ms from a
/// thread of the probe's own while a copy runs in the same process. In the gateway the replicator shares the pool
/// with the proxy, so this is the wait a proxied request's continuation would have had meanwhile.
/// </summary>
internal sealed class ThreadPoolDelayProbe
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(5);

    private readonly List<double> _delaysMs = [];
    private readonly Thread _sampler;
    private volatile bool _stopping;

    public ThreadPoolDelayProbe()
    {
        _sampler = new Thread(SampleUntilStopped) { IsBackground = true, Name = "thread-pool delay probe" };
        _sampler.Start();
    }

    /// <summary>Stops sampling; returns "samples N p50_ms … p99_ms … max_ms …".</summary>
    public string Stop()
    {
        _stopping = true;
        _sampler.Join();
        var sorted = _delaysMs.Order().ToList();
        return $"samples {sorted.Count} p50_ms {Statistics.Percentile(sorted, 0.50):F2} p99_ms {Statistics.Percentile(sorted, 0.99):F2} max_ms {sorted.LastOrDefault():F1}";
    }

    private void SampleUntilStopped()
    {
        using var started = new ManualResetEventSlim();
        while (!_stopping)
        {
            started.Reset();
            var queuedAt = Stopwatch.GetTimestamp();
            long startedAt = 0;
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                startedAt = Stopwatch.GetTimestamp();
                started.Set();
            }, null);
            started.Wait();
            _delaysMs.Add(Stopwatch.GetElapsedTime(queuedAt, startedAt).TotalMilliseconds);
            Thread.Sleep(Interval);
        }
    }
}
