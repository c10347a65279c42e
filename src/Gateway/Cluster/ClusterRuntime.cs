using Gateway.Coordinator.Supervision;
using Gateway.Coordinator.Switching;
using Gateway.Database;
using Gateway.Database.Observation;
using Gateway.Model;
using Gateway.Routing;

namespace Gateway.Cluster;

/// <summary>
/// Cluster mode at run time: runs the election, carries the shared state from etcd's watch into the objects the
/// request path reads (active site, database routes, write gate; never etcd on the request path), fences writes when
/// the session is no longer trusted and lifts the fence only after re-reading the current epoch, decides who acts
/// (<see cref="ClusterRole"/>), and publishes this gateway's view of the sites with the epoch it routes by.
/// </summary>
public sealed partial class ClusterRuntime(
    ClusterNode node,
    ClusterRole role,
    GatewayState state,
    DrainState drains,
    ActiveSiteState activeSite,
    DatabaseRoutingTable routing,
    WriteGate writeGate,
    PgSessions sessions,
    DatabaseObserver databaseObserver,
    SanProbes sanProbes,
    SiteTopology topology,
    Alarms alarms,
    ClusterMetrics metrics,
    EtcdOperationPublisher operations,
    TimeProvider time,
    ILogger<ClusterRuntime> logger) : BackgroundService
{
    private readonly SemaphoreSlim _leadershipChanged = new(0, 1);

    // Constructed with the runtime, so its gauges are registered from the start.
    public ClusterMetrics Metrics { get; } = metrics;
    private readonly Dictionary<string, Gateway.Cluster.SiteObservation> _sites = [];
    private bool _fenced;
    private int _trustedGeneration = -1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Fence("no etcd session confirmed yet");
        node.Election.Changed += _ => Wake();
        var election = Task.Run(() => node.Election.RunAsync(stoppingToken), CancellationToken.None);
        var watch = Task.Run(() => WatchStateAsync(stoppingToken), CancellationToken.None);
        var views = Task.Run(() => PublishViewsAsync(stoppingToken), CancellationToken.None);
        await FollowLeadershipAsync(stoppingToken);
        await Task.WhenAll(election, watch, views);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        role.Set(false);
        await base.StopAsync(cancellationToken);
        try
        {
            // A clean stop hands the leadership over now instead of after the lease's TTL.
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(node.Options.LeaseTtl);
            Log.Sentence(logger, await node.Election.ResignAsync(bound.Token));
        }
        catch (Exception e) when (e is EtcdUnavailableException or EtcdRefusedException or OperationCanceledException)
        {
            Log.Sentence(logger, $"could not resign ({e.Message}): the lease expires within {node.Options.LeaseTtl.TotalSeconds:0} s");
        }
    }

    private void Wake()
    {
        try
        {
            _leadershipChanged.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    /// <summary>Reacts to every change of the election's verdict, and checks again every renewal interval.</summary>
    private async Task FollowLeadershipAsync(CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                var sentence = await ReactAsync(node.Election.Status, cancellation);
                if (sentence is not null)
                {
                    Log.Sentence(logger, sentence);
                }

                await _leadershipChanged.WaitAsync(node.Options.RenewInterval, cancellation);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is EtcdUnavailableException or EtcdRefusedException or InvalidDataException)
            {
                Log.Sentence(logger, $"reaction to the leadership failed, tried again: {e.Message}");
                await Task.Delay(node.Options.RenewInterval / 2, time, cancellation);
            }
        }
    }

    /// <summary>One reaction: fence, lift the fence after re-reading the epoch, or change who acts. Returns its sentence, null when nothing changed.</summary>
    internal async Task<string?> ReactAsync(LeadershipStatus status, CancellationToken cancellation)
    {
        if (!status.WritesAllowed)
        {
            role.Set(false);
            return _fenced ? null : Fence(status.Sentence);
        }

        string? sentence = null;
        var acting = status.IsLeader;
        if (_fenced || status.SessionGeneration != _trustedGeneration)
        {
            // Writes again only from the current epoch: read it (linearizable) before the fence is lifted.
            await ReadCurrentStateAsync(cancellation);
            ApplyRouting(state.Current);
            _trustedGeneration = status.SessionGeneration;
            if (_fenced)
            {
                _fenced = false;
                writeGate.Unfence();
                routing.ResumeWrites();
                alarms.Clear(AlarmCatalogue.ClusterWritesFenced);
                sentence = $"writes resume at epoch {state.Current.Epoch} (revision {node.State.Revision}): {status.Sentence}";
            }
        }

        if (acting != role.Acting)
        {
            if (acting)
            {
                // A new leader decides from the current state, not from what the watch has brought so far: an
                // interrupted switch it does not see at its start would never be resumed.
                await ReadCurrentStateAsync(cancellation);
            }

            // Routing as the state says: a new leader starts from it (writes held if a switch is to be resumed), and a
            // step an old leader left half done in this process (writes held) is undone.
            ApplyRouting(state.Current);

            role.Set(acting);
            sentence = (sentence is null ? "" : sentence + "; ") + (acting ? $"this gateway leads and acts from epoch {state.Current.Epoch}" : $"this gateway follows: {status.Sentence}");
        }

        return sentence;
    }

    /// <summary>Reads the shared state linearizably and takes it when it is newer than the one known.</summary>
    private async Task ReadCurrentStateAsync(CancellationToken cancellation)
    {
        var key = await node.Store.ReadKeyAsync(EtcdStateStore.Key, cancellation)
            ?? throw new InvalidDataException($"etcd key {node.Store.Prefix}{EtcdStateStore.Key} is missing: the shared state is gone");
        if (node.State.Adopt(key) is { } newer)
        {
            state.Adopt(newer);
        }
    }

    /// <summary>Stops every write now: HTTP writes are held (503 after the hold bound), new write connections refused with 57P03, open write sessions cut.</summary>
    private string Fence(string why)
    {
        _fenced = true;
        writeGate.Fence();
        routing.StopWrites($"this gateway's cluster session is not trusted ({why})");
        var cut = routing.Current.Primary is { } primary ? sessions.CloseAll(primary, $"gateway: writes stopped, the cluster session is not trusted ({why})") : 0;
        alarms.Raise(AlarmCatalogue.ClusterWritesFenced, $"writes stopped: {why}");
        return $"writes stopped ({cut} write session(s) cut): {why}";
    }

    /// <summary>Makes the request path route by <paramref name="durable"/>: active site, primary and epoch, writes held while it is switching.</summary>
    private void ApplyRouting(DurableState durable)
    {
        activeSite.Set(durable.ActiveSite);
        if (durable.Switching)
        {
            writeGate.Close();
            routing.HoldWrites();
            return;
        }

        var before = routing.Current;
        routing.DesignatePrimary(durable.DatabasePrimary, durable.Epoch);
        writeGate.Open();
        if (before.Primary is { } old && old != durable.DatabasePrimary)
        {
            sessions.CloseAll(old, $"gateway: the primary moved to site {durable.DatabasePrimary} (epoch {durable.Epoch})");
        }
    }

    /// <summary>Carries every change of the shared state into this gateway's routing (a follower's; the leader made them itself).</summary>
    private async Task WatchStateAsync(CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                var snapshot = await node.Store.ReadPrefixAsync(EtcdStateStore.Prefix, cancellation);
                foreach (var current in snapshot.Keys)
                {
                    Take(current);
                }

                await foreach (var batch in node.Store.WatchAsync(EtcdStateStore.Prefix, snapshot.Revision, cancellation))
                {
                    foreach (var change in batch.Changes.Where(c => !c.Deleted))
                    {
                        Take(change.Key);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is EtcdUnavailableException or EtcdRefusedException or WatchCompactedException or InvalidDataException or System.Text.Json.JsonException)
            {
                Log.Sentence(logger, $"watch of the shared state restarts: {e.Message}");
                await Task.Delay(node.Options.RenewInterval, time, cancellation);
            }
        }
    }

    private void Take(StoredKey key)
    {
        if (key.Key == EtcdDrainStore.Key)
        {
            if (node.Drains.Adopt(key) is { } drained)
            {
                drains.Adopt(drained);
                Log.Sentence(logger, $"drained now: {drained}");
            }

            return;
        }

        if (key.Key == EtcdOperationPublisher.Key)
        {
            // The leader's own progress comes back here too; it knows it better already.
            if (!role.Acting)
            {
                operations.Adopt(key);
            }

            return;
        }

        if (key.Key != EtcdStateStore.Key || node.State.Adopt(key) is not { } newer)
        {
            return;
        }

        state.Adopt(newer);
        if (!role.Acting)
        {
            ApplyRouting(newer);
            Log.Sentence(logger, $"routing by epoch {newer.Epoch}: active site {newer.ActiveSite}, primary {newer.DatabasePrimary}{(newer.Switching ? ", switching (writes held)" : "")} ({newer.Reason})");
        }
    }

    /// <summary>Every renewal interval: this gateway's view of each site (its database node and SAN answer) and the epoch it routes by, under its session.</summary>
    private async Task PublishViewsAsync(CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(node.Options.RenewInterval, time, cancellation);
                var lease = node.Election.Status.LeaseId;
                if (lease != 0)
                {
                    await MemberView.PublishAsync(node.Store, ObserveSites(), lease, cancellation);
                }
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is EtcdUnavailableException or EtcdRefusedException or LeaseLostException)
            {
                // The next interval tries again; a lost session is the election's to renew.
            }
        }
    }

    internal GatewayView ObserveSites()
    {
        // The cluster's clock, as the judge of the views reads it.
        var now = node.Store.Clock.Now();
        var database = databaseObserver.Current;
        foreach (var site in topology.Sites)
        {
            var healthy = database.Node(site.Id) is { Reachable: true } && sanProbes.StateOf(site.Id) == SanState.Readable;
            _sites[site.Id] = _sites.TryGetValue(site.Id, out var previous) && previous.Healthy == healthy ? previous : new(healthy, now);
        }

        return new GatewayView(node.Options.GatewayId, now, new Dictionary<string, Gateway.Cluster.SiteObservation>(_sites), routing.Current.Epoch);
    }

    public override void Dispose()
    {
        _leadershipChanged.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "cluster: {Sentence}")]
        public static partial void Sentence(ILogger logger, string sentence);
    }
}
