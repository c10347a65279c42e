using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Observability;

/// <summary>
/// Process and runtime figures under the names Prometheus users know (process_cpu_seconds_total,
/// process_resident_memory_bytes, ...), read from the runtime at each scrape. Not the runtime's own System.Runtime
/// meter: several of its names (dotnet.thread_pool.thread.count ...) end in "_count", which Prometheus reserves for
/// histograms.
/// </summary>
public sealed class ProcessGauges
{
    private static readonly string[] Generations = ["gen0", "gen1", "gen2"];

    public ProcessGauges(MetricsCollector collector)
    {
        var meter = collector.Meter;
        using var process = Process.GetCurrentProcess();
        var startTime = new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;

        meter.CreateObservableCounter("process.cpu", () => Environment.CpuUsage.TotalTime.TotalSeconds, "s", "User and system CPU time spent by the process.");
        meter.CreateObservableGauge("process.resident_memory", () => Environment.WorkingSet, "By", "Resident memory of the process.");
        meter.CreateObservableGauge("process.start_time", () => startTime, "s", "When the process started, in seconds since the Unix epoch.");
        meter.CreateObservableCounter("dotnet.gc.collections", GcCollections, "{collection}", "Garbage collections, by the oldest generation collected.");
        meter.CreateObservableGauge("dotnet.gc.heap_size", () => GC.GetGCMemoryInfo().HeapSizeBytes, "By", "Size of the managed heap at the last garbage collection.");
        meter.CreateObservableCounter("dotnet.gc.allocated", () => GC.GetTotalAllocatedBytes(), "By", "Bytes allocated on the managed heap since the process started.");
        meter.CreateObservableCounter("dotnet.gc.pause", () => GC.GetTotalPauseDuration().TotalSeconds, "s", "Time the process was paused for garbage collection.");
        meter.CreateObservableGauge("dotnet.thread_pool.threads", () => ThreadPool.ThreadCount, "{thread}", "Threads of the thread pool.");
        meter.CreateObservableGauge("dotnet.thread_pool.queue_length", () => ThreadPool.PendingWorkItemCount, "{work_item}", "Work items waiting for a thread-pool thread.");
        meter.CreateObservableCounter("dotnet.thread_pool.completed_items", () => ThreadPool.CompletedWorkItemCount, "{work_item}", "Work items the thread pool has run.");
    }

    /// <summary>GC.CollectionCount(n) counts every collection that included generation n; each is counted once here, under the oldest.</summary>
    private static IEnumerable<Measurement<int>> GcCollections()
    {
        for (var generation = 0; generation < Generations.Length; generation++)
        {
            var older = generation + 1 < Generations.Length ? GC.CollectionCount(generation + 1) : 0;
            yield return new Measurement<int>(GC.CollectionCount(generation) - older, new KeyValuePair<string, object?>("generation", Generations[generation]));
        }
    }
}
