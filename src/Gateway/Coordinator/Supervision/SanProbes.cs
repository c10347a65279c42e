using Gateway.Configuration;
using Gateway.Coordinator.Switching;
using Gateway.Model;
using Microsoft.Extensions.Options;

namespace Gateway.Coordinator.Supervision;

/// <summary>One SAN probe's last word: the result of the last listing that finished, and whether one is under way since when.</summary>
public sealed record SanProbeReading(SanState? LastResult, DateTimeOffset? InProgressSince, string? Error);

/// <summary>What a SAN's reading means now: a listing unanswered past the timeout outweighs any older result.</summary>
public static class SanProbeState
{
    public static SanState Of(SanProbeReading reading, DateTimeOffset now, TimeSpan timeout) =>
        reading.InProgressSince is { } since && now - since > timeout ? SanState.Unresponsive : reading.LastResult ?? SanState.Unresponsive;
}

/// <summary>
/// Lists each site's SAN directory every ObserveInterval on a thread of its own, so a hung mount (a listing that never
/// returns) blocks only that thread: the coordinator reads the last reading without waiting, and a listing unanswered
/// for longer than Coordinator:SanProbeTimeout makes the SAN Unresponsive. A thread stuck in the kernel cannot be
/// stopped; it is a background thread, so it does not keep the process alive.
/// </summary>
public sealed partial class SanProbes : IHostedService, IDisposable
{
    private readonly Dictionary<string, Probe> _probes;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly CancellationTokenSource _stopping = new();

    /// <param name="listDirectory">Lists a SAN directory; by default the file system's listing, in tests one that can hang.</param>
    public SanProbes(
        SiteTopology topology, IOptions<GatewayOptions> options, TimeProvider time, ILogger<SanProbes> logger,
        Func<string, (SanState State, string? Error)>? listDirectory = null)
    {
        _time = time;
        _timeout = options.Value.Coordinator.SanProbeTimeout;
        var interval = options.Value.Coordinator.ObserveInterval;
        var list = listDirectory ?? Probe.List;
        _probes = topology.Sites.ToDictionary(site => site.Id, site => new Probe(site.Id, site.SanPath, interval, list, time, logger));
    }

    public SanState StateOf(string siteId) => SanProbeState.Of(_probes[siteId].Reading, _time.GetUtcNow(), _timeout);

    /// <summary>The reading behind <see cref="StateOf"/>, for the status (the error of an unreadable SAN).</summary>
    public SanProbeReading ReadingOf(string siteId) => _probes[siteId].Reading;

    /// <summary>Starts every probe and waits, at most the timeout, for each first result.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var probe in _probes.Values)
        {
            probe.Start(_stopping.Token);
        }

        await Task.WhenAll(_probes.Values.Select(probe => probe.FirstResult.WaitAsync(_timeout, _time, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    public void Dispose() => _stopping.Dispose();

    private sealed class Probe(
        string siteId, string path, TimeSpan interval, Func<string, (SanState State, string? Error)> list, TimeProvider time, ILogger logger)
    {
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile SanProbeReading _reading = new(null, null, null);

        public SanProbeReading Reading => _reading;

        public Task FirstResult => _first.Task;

        public void Start(CancellationToken stopping) =>
            new Thread(() => Run(stopping)) { IsBackground = true, Name = $"SAN probe {siteId}" }.Start();

        private void Run(CancellationToken stopping)
        {
            while (!stopping.IsCancellationRequested)
            {
                var previous = _reading;
                _reading = previous with { InProgressSince = time.GetUtcNow() };
                var (state, error) = list(path);
                _reading = new SanProbeReading(state, null, error);
                _first.TrySetResult();
                if (state != previous.LastResult)
                {
                    Log.Changed(logger, siteId, path, state, error ?? "ok");
                }

                try
                {
                    Task.Delay(interval, time, stopping).Wait(stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        public static (SanState State, string? Error) List(string directory)
        {
            try
            {
                using var entries = Directory.EnumerateFileSystemEntries(directory).GetEnumerator();
                entries.MoveNext();
                return (SanState.Readable, null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return (SanState.Unreadable, e.Message);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "SAN of site {Site} ({Path}) is now {State}: {Detail}")]
        public static partial void Changed(ILogger logger, string site, string path, SanState state, string detail);
    }
}
