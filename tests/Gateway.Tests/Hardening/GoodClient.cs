using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Gateway.Tests.Hardening;

/// <summary>
/// A well-behaved client that keeps making reads and writes through the gateway while hostile input arrives next to
/// it, checking each answer: the proof that no vector takes the gateway down or disturbs anybody else.
/// </summary>
public sealed class GoodClient : IAsyncDisposable
{
    public const string PathPrefix = "/good/";

    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _completed;

    public GoodClient(int port)
    {
        // Idle pooled connections are let go well before the gateway's keep-alive timeout would close them under a
        // request being sent (which would be the test's race, not the gateway's fault).
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMilliseconds(500) })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromSeconds(10),
        };
        _loop = Task.Run(LoopAsync);
    }

    public long Completed => Interlocked.Read(ref _completed);

    public ConcurrentQueue<string> Errors { get; } = new();

    private async Task LoopAsync()
    {
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            var write = n % 2 == 1;
            var path = $"{PathPrefix}{n}";
            try
            {
                using var response = write
                    ? await _http.PostAsync(path, new ByteArrayContent(Encoding.ASCII.GetBytes($"good body {n}")), _stop.Token)
                    : await _http.GetAsync(path, _stop.Token);
                var text = await response.Content.ReadAsStringAsync(_stop.Token);
                var servedBy = response.Headers.TryGetValues("X-Served-By", out var values) ? values.Single() : "?";
                if (response.StatusCode != HttpStatusCode.OK || text != $"{servedBy} {(write ? "POST" : "GET")} {path}")
                {
                    Errors.Enqueue($"{path}: {(int)response.StatusCode} {text}");
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                Errors.Enqueue($"{path}: {e.GetType().Name}: {e.Message}");
            }

            Interlocked.Increment(ref _completed);
        }
    }

    /// <summary>Waits until a few more requests have completed, then asserts none has failed since the start.</summary>
    public async Task AssertStillServedAsync()
    {
        var target = Completed + 3;
        var giveUpAt = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (Completed < target && DateTime.UtcNow < giveUpAt)
        {
            await Task.Delay(20);
        }

        Assert.Empty(Errors);
        Assert.True(Completed >= target, $"the good client stalled at {Completed} requests");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _http.Dispose();
        _stop.Dispose();
    }
}
