using Gateway.Configuration;
using Gateway.Database.Nodes;
using Gateway.Model;
using Microsoft.Extensions.Options;

namespace Gateway.Database.Observation;

/// <summary>
/// Probes every node each ObserveInterval (both in parallel, each bounded by ObserveTimeout, so a frozen node
/// cannot stall the view of the other) and publishes the result as one immutable <see cref="DatabaseSnapshot"/>.
/// </summary>
public sealed partial class DatabaseObserver(
    NodeConnections nodes,
    SiteTopology topology,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<DatabaseObserver> logger) : BackgroundService
{
    private readonly DatabaseOptions _options = options.Value.Database;
    private volatile DatabaseSnapshot _current = DatabaseSnapshot.Empty;
    private readonly SnapshotFeed<DatabaseSnapshot> _published = new(time);

    public DatabaseSnapshot Current => _current;

    /// <summary>Completes with the next snapshot published after this call.</summary>
    public Task<DatabaseSnapshot> NextAsync(CancellationToken cancellation) => _published.NextAsync(cancellation);

    /// <summary>The first snapshot published from now on that <paramref name="until"/> accepts, or null after <paramref name="timeout"/>.</summary>
    public Task<DatabaseSnapshot?> WaitForAsync(Func<DatabaseSnapshot, bool> until, TimeSpan timeout, CancellationToken cancellation) =>
        _published.WaitForAsync(until, timeout, cancellation);

    /// <summary>Probes now, outside the schedule: actions call this to see the effect of what they just did.</summary>
    public async Task<DatabaseSnapshot> ObserveNowAsync(CancellationToken cancellation)
    {
        var previous = _current;
        var observations = await Task.WhenAll(topology.Sites.Select(site => ObserveAsync(site.Id, previous.Node(site.Id), cancellation)));
        var snapshot = new DatabaseSnapshot(observations.ToDictionary(o => o.SiteId), time.GetUtcNow());
        _current = snapshot;
        _published.Publish(snapshot);
        return snapshot;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.ObserveInterval, time);
        do
        {
            await ObserveNowAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<NodeObservation> ObserveAsync(string siteId, NodeObservation? previous, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_options.ObserveTimeout);
        try
        {
            // WaitAsync bounds the probe even where the driver does not stop at the token (a frozen node accepts TCP
            // connections in its kernel and then answers nothing); the abandoned probe ends by itself, its pool is reset.
            var observation = await NodeProbe.ObserveAsync(nodes.For(siteId), siteId, time.GetUtcNow(), previous, timeout.Token)
                .WaitAsync(_options.ObserveTimeout, time, cancellation);
            if (previous is { Reachable: false })
            {
                Log.NodeBack(logger, siteId, observation.InRecovery ? "standby" : "primary");
            }

            return observation;
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested && e is not OutOfMemoryException)
        {
            var reason = NodeProbe.Describe(e);
            if (previous is null or { Reachable: true })
            {
                Log.NodeUnreachable(logger, siteId, reason);
            }

            // A connection to a crashed or frozen node may be dead in the pool; start afresh next time.
            nodes.Reset(siteId);
            // Another observation (an action's ObserveNowAsync) may have published while this one waited out its
            // timeout: carry the outage's start from whichever saw it first, or each overlap would restart the clock.
            var known = _current.Node(siteId) is { Reachable: false } published ? published : previous;
            return NodeObservation.Unreachable(siteId, reason, time.GetUtcNow(), known);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Database node of site {Site} unreachable: {Reason}")]
        public static partial void NodeUnreachable(ILogger logger, string site, string reason);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Database node of site {Site} answers again, as {Role}")]
        public static partial void NodeBack(ILogger logger, string site, string role);
    }
}
