using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;

namespace Gateway.Tests.Support;

/// <summary>A deposit the workload sent (logged before the request leaves, so no row can exist for a name not here).</summary>
public sealed record SentDeposit(string Name, string Sha256, TimeSpan At);

/// <summary>A deposit the gateway acknowledged (201 Created), with the id it was given and the time the answer arrived.</summary>
public sealed record Acknowledgment(Guid Id, string Name, string Sha256, TimeSpan At);

/// <summary>A request that did not succeed: what it was ("deposit {name}" or "read {id}"), when it ended, and why.</summary>
public sealed record FailedRequest(TimeSpan At, string Request, string Reason);

/// <summary>
/// Clients of the public endpoint, as the issue's checker wants them: deposits with unique names and known random
/// content, and reads of acknowledged deposits, each at a fixed rate, logging every acknowledgment and every failure
/// on one clock (<see cref="Now"/>) that tests use to mark their faults. Can be started and stopped more than once;
/// the log accumulates. <see cref="ConsistencyChecker"/> compares the log with what the stores hold.
/// </summary>
public sealed class DepositWorkload(HttpClient gateway, string namePrefix, int depositsPerSecond = 20, int readsPerSecond = 10, int contentBytes = 1024)
    : IAsyncDisposable
{
    private sealed record Receipt(Guid Id);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentDictionary<string, SentDeposit> _sent = new();
    private readonly ConcurrentQueue<Acknowledgment> _acknowledged = new();
    private readonly ConcurrentQueue<FailedRequest> _failures = new();
    private readonly ConcurrentQueue<Guid> _corruptedReads = new();
    private readonly List<(TimeSpan From, TimeSpan To)> _runs = [];
    private CancellationTokenSource? _stop;
    private Task? _running;
    private TimeSpan _startedAt;
    private int _reads;

    /// <summary>The workload's clock: every logged time is on it.</summary>
    public TimeSpan Now => _clock.Elapsed;

    public IReadOnlyDictionary<string, SentDeposit> Sent => _sent;
    public IReadOnlyCollection<Acknowledgment> Acknowledged => _acknowledged;
    public IReadOnlyCollection<FailedRequest> Failures => _failures;

    /// <summary>Acknowledged deposits a read got other bytes for than were sent.</summary>
    public IReadOnlyCollection<Guid> CorruptedReads => _corruptedReads;

    public int Reads => _reads;

    /// <summary>A request still unanswered after this fails (as a timeout); by default the client's own timeout.</summary>
    public TimeSpan? RequestTimeout { get; init; }

    public void Start()
    {
        if (_running is not null)
        {
            throw new InvalidOperationException("the workload is already running");
        }

        _stop = new CancellationTokenSource();
        _startedAt = Now;
        _running = Task.WhenAll(
            AtFixedRateAsync(depositsPerSecond, DepositAsync, _stop.Token),
            AtFixedRateAsync(readsPerSecond, ReadAsync, _stop.Token));
    }

    /// <summary>Stops sending and waits until every request in flight has its answer (or its failure) logged.</summary>
    public async Task StopAsync()
    {
        if (_running is null)
        {
            return;
        }

        await _stop!.CancelAsync();
        await _running;
        _runs.Add((_startedAt, Now));
        _stop.Dispose();
        _running = null;
    }

    /// <summary>Runs for a while and stops: a steady-state run, no fault.</summary>
    public async Task RunForAsync(TimeSpan duration)
    {
        Start();
        await Task.Delay(duration);
        await StopAsync();
    }

    public IReadOnlyList<FailedRequest> FailuresSince(TimeSpan since) => _failures.Where(f => f.At >= since).ToList();

    /// <summary>Failures counted by kind of request and first word of the reason (the status code, or the exception's first word): "deposit 503 x12, read 502 x3".</summary>
    public string FailureReasons() => string.Join(", ", _failures
        .GroupBy(f => $"{f.Request.Split(' ')[0]} {f.Reason.Split(' ')[0]}")
        .OrderByDescending(g => g.Count())
        .Select(g => $"{g.Key} x{g.Count()}"));

    /// <summary>
    /// The RTO as clients saw it across a fault between two moments: the longest time without a successful deposit,
    /// counting from the last acknowledgment at or before <paramref name="from"/> (the fault's moment, when clients
    /// last saw a success) to the first after each gap, and a gap still open at <paramref name="to"/> up to it.
    /// </summary>
    public TimeSpan LongestWindowWithoutWrite(TimeSpan from, TimeSpan to)
    {
        var times = AcknowledgedAt();
        return LongestGap([times.LastOrDefault(t => t <= from, from), .. times.Where(t => t > from && t <= to), to]);
    }

    /// <summary>The longest window without a successful deposit within the periods the workload ran (not between them).</summary>
    public TimeSpan LongestWindowWithoutWrite()
    {
        var times = AcknowledgedAt();
        return _runs.Select(run => LongestGap([run.From, .. times.Where(t => t > run.From && t <= run.To), run.To])).DefaultIfEmpty(TimeSpan.Zero).Max();
    }

    private List<TimeSpan> AcknowledgedAt() => _acknowledged.Select(a => a.At).Order().ToList();

    /// <summary>
    /// Every acknowledged deposit (ok), every failed request (failed) and the test's own moments (event), in time
    /// order, as CSV for bench/report/render.py's plot of a failover as clients saw it.
    /// </summary>
    public void WriteTimeline(string path, params (TimeSpan At, string Name)[] events)
    {
        var rows = _acknowledged.Select(a => (a.At, Outcome: "ok", Detail: a.Name))
            .Concat(_failures.Select(f => (f.At, Outcome: "failed", Detail: f.Request)))
            .Concat(events.Select(e => (e.At, Outcome: "event", Detail: e.Name)))
            .OrderBy(row => row.At)
            .Select(row => $"{row.At.TotalMilliseconds:0},{row.Outcome},{row.Detail.Replace(',', ' ')}");
        File.WriteAllLines(path, ["at_ms,outcome,detail", .. rows]);
    }

    private static TimeSpan LongestGap(List<TimeSpan> points) => points.Zip(points.Skip(1)).Select(pair => pair.Second - pair.First).Max();

    private static async Task AtFixedRateAsync(int perSecond, Func<Task> request, CancellationToken stop)
    {
        if (perSecond <= 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / perSecond));
        var inFlight = new List<Task>();
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                inFlight.Add(request());
            }
        }
        catch (OperationCanceledException)
        {
            // The test's stop.
        }

        await Task.WhenAll(inFlight);
    }

    private async Task DepositAsync()
    {
        var content = RandomNumberGenerator.GetBytes(contentBytes);
        var sent = new SentDeposit($"{namePrefix}-{Guid.NewGuid():N}", Convert.ToHexStringLower(SHA256.HashData(content)), Now);
        _sent[sent.Name] = sent;
        var request = $"deposit {sent.Name}";
        using var timeout = new CancellationTokenSource(RequestTimeout ?? Timeout.InfiniteTimeSpan);
        try
        {
            using var response = await gateway.PostAsync($"/deposits?name={sent.Name}", new ByteArrayContent(content), timeout.Token);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                Fail(request, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(timeout.Token)}");
                return;
            }

            var receipt = (await response.Content.ReadFromJsonAsync<Receipt>(timeout.Token))!;
            _acknowledged.Enqueue(new Acknowledgment(receipt.Id, sent.Name, sent.Sha256, Now));
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // A cancellation is a timeout (the client's or RequestTimeout): the deposit may or may not have happened.
            Fail(request, e.Message);
        }
    }

    private async Task ReadAsync()
    {
        var acknowledged = _acknowledged.ToArray();
        if (acknowledged.Length == 0)
        {
            return;
        }

        Interlocked.Increment(ref _reads);
        var deposit = acknowledged[Random.Shared.Next(acknowledged.Length)];
        var request = $"read {deposit.Id}";
        using var timeout = new CancellationTokenSource(RequestTimeout ?? Timeout.InfiniteTimeSpan);
        try
        {
            using var response = await gateway.GetAsync($"/deposits/{deposit.Id}/content", timeout.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Fail(request, $"{(int)response.StatusCode} from {string.Join(",", response.Headers.TryGetValues("X-Served-By", out var by) ? by : [])}");
                return;
            }

            if (Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync(timeout.Token))) != deposit.Sha256)
            {
                _corruptedReads.Enqueue(deposit.Id);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            Fail(request, e.Message);
        }
    }

    private void Fail(string request, string reason) => _failures.Enqueue(new FailedRequest(Now, request, reason));

    public async ValueTask DisposeAsync() => await StopAsync();
}
