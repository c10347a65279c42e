-- wrk script for bench/proxy/run.sh: prints one machine-readable line with exact figures
-- (wrk's own text rounds latencies and mixes units). Latencies are wrk's microsecond histogram.
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d mean_us=%.1f max_us=%d " ..
        "err_connect=%d err_read=%d err_write=%d err_timeout=%d non2xx=%d\n",
        summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
        e.connect, e.read, e.write, e.timeout, e.status))
end
