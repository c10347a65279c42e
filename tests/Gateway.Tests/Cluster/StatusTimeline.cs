using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Gateway.Coordinator.Admin;
using Gateway.Tests.Support;

namespace Gateway.Tests.Cluster;

/// <summary>
/// One answer of a gateway's <c>GET /admin/status</c>, stamped with when it arrived: what it says held by then at the
/// latest (a status read while the gateway's etcd is cut off can take more than a second).
/// </summary>
public sealed record StatusSample(string Gateway, TimeSpan At, GatewayStatus Status);

/// <summary>
/// Asks each gateway for its status every 100 ms, on a given clock (the load's), and keeps the answers; an answer
/// slower than 3 s is dropped. Each gateway is polled on its own, so a slow one does not hold the others' polls.
/// </summary>
public sealed class StatusTimeline : IAsyncDisposable
{
    private readonly ConcurrentQueue<StatusSample> _samples = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pollers;

    public StatusTimeline(IReadOnlyDictionary<string, GatewayProcess> gateways, Func<TimeSpan> clock) =>
        _pollers = [.. gateways.Select(g => Task.Run(() => PollAsync(g.Key, g.Value, clock)))];

    /// <summary>The first sample of <paramref name="gateway"/> arrived at or after <paramref name="after"/> that satisfies <paramref name="condition"/>.</summary>
    public StatusSample? First(string gateway, TimeSpan after, Func<GatewayStatus, bool> condition) =>
        _samples.Where(s => s.Gateway == gateway && s.At >= after && condition(s.Status)).MinBy(s => s.At);

    /// <summary>Waits (bounded) for such a sample.</summary>
    public async Task<StatusSample> WaitForAsync(string gateway, TimeSpan after, Func<GatewayStatus, bool> condition, string what, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        StatusSample? sample;
        while ((sample = First(gateway, after, condition)) is null)
        {
            if (deadline.Elapsed > within)
            {
                var last = _samples.Where(s => s.Gateway == gateway).MaxBy(s => s.At);
                throw new TimeoutException($"{gateway}: not {what} within {within.TotalSeconds:0} s; last status: {(last is null ? "none" : JsonSerializer.Serialize(last.Status, AdminRequests.Json))}");
            }

            await Task.Delay(50);
        }

        return sample;
    }

    private async Task PollAsync(string name, GatewayProcess gateway, Func<TimeSpan> clock)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                limit.CancelAfter(TimeSpan.FromSeconds(3));
                var json = await gateway.Admin.GetStringAsync("/admin/status", limit.Token);
                _samples.Enqueue(new StatusSample(name, clock(), JsonSerializer.Deserialize<GatewayStatus>(json, AdminRequests.Json)!));
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
            {
                // No answer in time: a gap in this gateway's timeline.
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_pollers);
        _stop.Dispose();
    }
}
