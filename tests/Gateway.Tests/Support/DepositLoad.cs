using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;

namespace Gateway.Tests.Support;

/// <summary>
/// Client load through the gateway's public listener while a test breaks something: a deposit (1 KiB of random bytes,
/// a unique name) every period, and optionally a read of an already acknowledged deposit, recording each
/// acknowledgment with its time on <paramref name="clock"/> so the test can check what survived and when writes stopped.
/// </summary>
/// <param name="acknowledged">Acknowledgments to add to, shared by several loads of one test; a new set by default.</param>
public sealed class DepositLoad(HttpClient gateway, Stopwatch clock, ConcurrentDictionary<Guid, (string Sha256, long AtMs)>? acknowledged = null)
{
    private sealed record Receipt(Guid Id, string Sha256);

    private int _readsSucceeded;
    private int _readsFailed;

    /// <summary>Deposits answered 201, by id: the sha256 of what was sent and when it was acknowledged.</summary>
    public ConcurrentDictionary<Guid, (string Sha256, long AtMs)> Acknowledged { get; } = acknowledged ?? new();

    /// <summary>When each deposit that was not acknowledged (an error status, a broken connection, a timeout) ended.</summary>
    public ConcurrentQueue<long> FailedAtMs { get; } = new();

    public int ReadsSucceeded => _readsSucceeded;
    public int ReadsFailed => _readsFailed;

    /// <summary>A request still unanswered after this counts as failed; by default the client's own timeout.</summary>
    public TimeSpan? RequestTimeout { get; init; }

    /// <summary>Also read back (GET .../content) one acknowledged deposit each period and compare its sha256.</summary>
    public bool WithReads { get; init; }

    /// <summary>Runs until <paramref name="stop"/>, then waits for the requests still in flight.</summary>
    public async Task RunAsync(TimeSpan period, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(period);
        var inFlight = new List<Task>();
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                inFlight.Add(DepositAsync());
                if (WithReads && !Acknowledged.IsEmpty)
                {
                    inFlight.Add(ReadAsync(Acknowledged.Keys.Last()));
                }
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
        var content = RandomNumberGenerator.GetBytes(1024);
        using var timeout = new CancellationTokenSource(RequestTimeout ?? Timeout.InfiniteTimeSpan);
        try
        {
            using var response = await gateway.PostAsync($"/deposits?name=load-{Guid.NewGuid():N}", new ByteArrayContent(content), timeout.Token);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                var receipt = (await response.Content.ReadFromJsonAsync<Receipt>(timeout.Token))!;
                Acknowledged[receipt.Id] = (Convert.ToHexStringLower(SHA256.HashData(content)), clock.ElapsedMilliseconds);
                return;
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // Counted below: a failed request is what the RTO is measured from.
        }

        FailedAtMs.Enqueue(clock.ElapsedMilliseconds);
    }

    private async Task ReadAsync(Guid id)
    {
        using var timeout = new CancellationTokenSource(RequestTimeout ?? Timeout.InfiniteTimeSpan);
        try
        {
            using var response = await gateway.GetAsync($"/deposits/{id}/content", timeout.Token);
            if (response.StatusCode == HttpStatusCode.OK
                && Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync(timeout.Token))) == Acknowledged[id].Sha256)
            {
                Interlocked.Increment(ref _readsSucceeded);
                return;
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // Counted below.
        }

        Interlocked.Increment(ref _readsFailed);
    }
}
