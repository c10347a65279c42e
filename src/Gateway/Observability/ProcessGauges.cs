using System.Diagnostics;

namespace Gateway.Observability;

/// <summary>
/// Process and runtime figures under the names Prometheus users know (process_cpu_seconds_total,
/// process_resident_memory_bytes, ...), read from the runtime at each scrape. Not prometheus-net's DotNetStats nor
/// the runtime's System.Runtime meter: the dashboard and the alerts were written against these names, and several
/// of the meter's (dotnet.thread_pool.thread.count ...) end in "_count", which Prometheus reserves for histograms.
/// </summary>
public sealed class ProcessGauges
{
    private static readonly string[] Generations = ["gen0", "gen1", "gen2"];

    public ProcessGauges(GatewayMetrics metrics)
    {
        using var process = Process.GetCurrentProcess();
        var startTime = new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;

        var cpu = metrics.Counter("process_cpu_seconds_total", "User and system CPU time spent by the process.");
        var collections = metrics.Counter("dotnet_gc_collections_total", "Garbage collections, by the oldest generation collected.", "generation");
        var allocated = metrics.Counter("dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap since the process started.");
        var pause = metrics.Counter("dotnet_gc_pause_seconds_total", "Time the process was paused for garbage collection.");
        var completed = metrics.Counter("dotnet_thread_pool_completed_items_total", "Work items the thread pool has run.");
        metrics.OnScrape("process counters", () =>
        {
            cpu.IncTo(Environment.CpuUsage.TotalTime.TotalSeconds);
            allocated.IncTo(GC.GetTotalAllocatedBytes());
            pause.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
            completed.IncTo(ThreadPool.CompletedWorkItemCount);
            // GC.CollectionCount(n) counts every collection that included generation n; each is counted once here, under the oldest.
            for (var generation = 0; generation < Generations.Length; generation++)
            {
                var older = generation + 1 < Generations.Length ? GC.CollectionCount(generation + 1) : 0;
                collections.WithLabels(Generations[generation]).IncTo(GC.CollectionCount(generation) - older);
            }
        });

        metrics.ObservedGauge("process_resident_memory_bytes", "Resident memory of the process.", () => Environment.WorkingSet);
        metrics.ObservedGauge("process_start_time_seconds", "When the process started, in seconds since the Unix epoch.", () => startTime);
        metrics.ObservedGauge("dotnet_gc_heap_size_bytes", "Size of the managed heap at the last garbage collection.", () => GC.GetGCMemoryInfo().HeapSizeBytes);
        metrics.ObservedGauge("dotnet_thread_pool_threads", "Threads of the thread pool.", () => ThreadPool.ThreadCount);
        metrics.ObservedGauge("dotnet_thread_pool_queue_length", "Work items waiting for a thread-pool thread.", () => ThreadPool.PendingWorkItemCount);
    }
}
