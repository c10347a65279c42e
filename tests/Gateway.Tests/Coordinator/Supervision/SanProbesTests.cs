using Gateway.Configuration;
using Gateway.Coordinator.Supervision;
using Gateway.Coordinator.Switching;
using Gateway.Model;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Coordinator.Supervision;

/// <summary>
/// The SAN probes on a fake clock. A hung mount is stood in for by a listing that blocks until the test releases
/// it (a real one needs a FUSE mount whose daemon is stopped: EndToEnd/OperatorControlTests does that).
/// </summary>
public sealed class SanProbesTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    // Only a bound against a hang, for what a probe thread does on its own.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 10, 0, 0, TimeSpan.Zero));
    private readonly FakeLogger<SanProbes> _logger = new();
    private readonly HangingSan _san = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-san-probe-").FullName;

    public void Dispose()
    {
        _san.Release();
        Directory.Delete(_directory, recursive: true);
    }

    private SanProbes Probes(string sanA = "/san/a", string sanB = "/san/b", bool realListing = false)
    {
        var options = new GatewayOptions();
        options.Coordinator.ObserveInterval = Interval;
        options.Coordinator.SanProbeTimeout = Timeout;
        var topology = new SiteTopology([new SiteOptions { Id = "A", SanPath = sanA }, new SiteOptions { Id = "B", SanPath = sanB }]);
        return new SanProbes(topology, Options.Create(options), _time, _logger, realListing ? null : _san.List);
    }

    [Fact]
    public async Task A_listing_unanswered_past_the_timeout_makes_its_SAN_unresponsive_and_the_other_SAN_is_still_read()
    {
        using var probes = Probes();
        await probes.StartAsync(CancellationToken.None).WaitAsync(Patience);
        Assert.Equal((SanState.Readable, SanState.Readable), (probes.StateOf("A"), probes.StateOf("B")));

        _san.Hang("/san/a");
        AdvanceUntil(() => _san.Entered.Wait(TimeSpan.FromMilliseconds(20)), "site A's SAN listed again");
        var since = probes.ReadingOf("A").InProgressSince!.Value;

        _time.SetUtcNow(since + Timeout);
        Assert.Equal(SanState.Readable, probes.StateOf("A"));

        _time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(SanState.Unresponsive, probes.StateOf("A"));
        Assert.Equal(new SanProbeReading(SanState.Readable, since, null), probes.ReadingOf("A"));

        // B's probe has a thread of its own: it goes on listing while A's hangs.
        var listingsOfB = _san.Listings("/san/b");
        AdvanceUntil(() => SpinWait.SpinUntil(() => _san.Listings("/san/b") > listingsOfB, 20), "site B's SAN listed while site A's hangs");
        Assert.Equal((SanState.Unresponsive, SanState.Readable), (probes.StateOf("A"), probes.StateOf("B")));

        _san.Release();
        Assert.True(SpinWait.SpinUntil(() => probes.ReadingOf("A").InProgressSince is null, Patience), "the released listing did not end");
        Assert.Equal(SanState.Readable, probes.StateOf("A"));
        await probes.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Start_waits_for_each_first_listing_at_most_the_timeout_and_a_SAN_never_answered_is_unresponsive()
    {
        _san.Hang("/san/a");
        using var probes = Probes();

        var start = probes.StartAsync(CancellationToken.None);
        Assert.True(_san.Entered.Wait(Patience), "site A's SAN was never listed");
        _time.Advance(Timeout - TimeSpan.FromTicks(1));
        Assert.False(start.IsCompleted, "the start ended before the timeout with a first listing unanswered");

        _time.Advance(TimeSpan.FromTicks(1));
        await start.WaitAsync(Patience);

        Assert.Equal((SanState.Unresponsive, SanState.Readable), (probes.StateOf("A"), probes.StateOf("B")));
        Assert.Null(probes.ReadingOf("A").LastResult);
        await probes.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task The_file_systems_listing_reads_a_directory_and_names_the_error_of_one_it_cannot_read()
    {
        var missing = Path.Combine(_directory, "not-mounted");
        using var probes = Probes(sanA: _directory, sanB: missing, realListing: true);

        await probes.StartAsync(CancellationToken.None).WaitAsync(Patience);

        Assert.Equal((SanState.Readable, SanState.Unreadable), (probes.StateOf("A"), probes.StateOf("B")));
        Assert.Contains(missing, probes.ReadingOf("B").Error);
        Assert.Contains(_logger.Collector.GetSnapshot(), record => record.Message.StartsWith($"SAN of site B ({missing}) is now Unreadable: ", StringComparison.Ordinal));
        await probes.StopAsync(CancellationToken.None);
    }

    /// <summary>
    /// Moves the clock an interval at a time until <paramref name="happened"/> (which may wait a moment for a probe
    /// thread): a probe thread puts its next delay on the clock at a moment of its own, so one step may come too early.
    /// </summary>
    private void AdvanceUntil(Func<bool> happened, string what)
    {
        var giveUpAt = DateTime.UtcNow + Patience;
        while (!happened())
        {
            Assert.True(DateTime.UtcNow < giveUpAt, $"not seen: {what}");
            _time.Advance(Interval);
        }
    }

    /// <summary>A SAN listing that answers Readable at once, except for a path told to hang: that blocks until released.</summary>
    private sealed class HangingSan
    {
        private readonly Dictionary<string, int> _listings = [];
        private readonly ManualResetEventSlim _released = new();
        private volatile string? _hanging;

        /// <summary>Released each time a listing of the hanging path begins.</summary>
        public SemaphoreSlim Entered { get; } = new(0);

        public void Hang(string path) => _hanging = path;

        public void Release()
        {
            _hanging = null;
            _released.Set();
        }

        public int Listings(string path)
        {
            lock (_listings)
            {
                return _listings.GetValueOrDefault(path);
            }
        }

        public (SanState State, string? Error) List(string path)
        {
            lock (_listings)
            {
                _listings[path] = _listings.GetValueOrDefault(path) + 1;
            }

            if (path == _hanging)
            {
                Entered.Release();
                _released.Wait();
            }

            return (SanState.Readable, null);
        }
    }
}
