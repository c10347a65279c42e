using Gateway.Configuration;
using Gateway.Model;
using Microsoft.Extensions.Options;

namespace Gateway.Filestore;

/// <summary>
/// The gateway's one running replicator: started at boot from the active site's SAN to the other's, stopped for a
/// failover, and started the other way round once the old site is back. The coordinator drives it; the admin status
/// and metrics read <see cref="Status"/>.
/// </summary>
public sealed class FilestoreReplication(
    SiteTopology topology,
    ActiveSiteState activeSite,
    IOptions<GatewayOptions> gatewayOptions,
    ReplicationOptions options,
    TimeProvider time,
    ILogger<FilestoreReplicator> logger) : IHostedService, IAsyncDisposable
{
    private readonly SemaphoreSlim _switching = new(1, 1);
    private readonly Lazy<(ReplicaLedger Ledger, DeleteBreaker Breaker)> _pair = new(() => OpenPair(topology, gatewayOptions.Value, options, time));
    private volatile FilestoreReplicator? _current;

    /// <summary>The running replicator's status; null while none runs (before start, or between a failover and the way back).</summary>
    public ReplicationStatus? Status => _current?.Status;

    /// <summary>The site whose SAN the filestore links point at (where the services write), or null when they cannot be read.</summary>
    public string? LinkSite => SiteTheLinksPointAt();

    /// <summary>
    /// The ledger and the delete breaker of the SAN pair, under StateDirectory/filestore: one for both directions,
    /// since "both held this alike" is true whichever way the copies ran.
    /// </summary>
    private static (ReplicaLedger, DeleteBreaker) OpenPair(SiteTopology topology, GatewayOptions gateway, ReplicationOptions options, TimeProvider time)
    {
        var directory = Path.Combine(gateway.StateDirectory, "filestore");
        var pair = string.Join('-', topology.Sites.Select(site => site.Id).Order(StringComparer.Ordinal));
        var ledger = ReplicaLedger.Open(directory, pair);
        return (ledger, new DeleteBreaker(options.MaxDeletesPerMinute, time, Path.Combine(directory, pair + ".deletes-held")));
    }

    /// <summary>Looks again at every delete the breaker held (POST /admin/filestore/release-deletes); returns how many.</summary>
    public int ReleaseHeldDeletes() => _current?.ReleaseHeldDeletes() ?? _pair.Value.Breaker.Release().Count;

    /// <summary>
    /// Waits until the running replicator's initial sync is done and nothing is pending, reporting progress; false
    /// (with the reason) when no replicator runs from <paramref name="sourceSiteId"/> or the deadline passes first.
    /// </summary>
    public async Task<(bool CaughtUp, string Outcome)> WaitUntilCaughtUpAsync(string sourceSiteId, TimeSpan deadline, Action<ReplicationStatus>? progress, CancellationToken cancellation)
    {
        var giveUpAt = time.GetUtcNow() + deadline;
        while (true)
        {
            if (_current is not { } replicator || replicator.Direction.SourceSite != sourceSiteId)
            {
                return (false, $"no replication from site {sourceSiteId} is running");
            }

            var status = replicator.Status;
            progress?.Invoke(status);
            if (status is { InitialSync.Completed: true, PendingFiles: 0 })
            {
                return (true, $"caught up: initial sync of {status.InitialSync.FilesTotal} path(s) done, nothing pending");
            }

            var left = giveUpAt - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return (false, $"not caught up within {deadline}: {status.PendingFiles} path(s), {status.PendingBytes} bytes pending ({status.State})");
            }

            using var slice = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            slice.CancelAfter(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
            try
            {
                await replicator.WaitUntilCaughtUpAsync(slice.Token);
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                // A slice ended: report progress and look again.
            }
        }
    }

    /// <summary>
    /// Replicates from the SAN the filestore links point at: that is where the services write. Usually the active
    /// site's; not after a restart that interrupted a site switch, whose persisted active site is already the new one
    /// while the links still point at the old one (the new SAN is then the incomplete side, and replicating from it
    /// would delete files on the complete one).
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken) => ReplicateFromAsync(SiteTheLinksPointAt() ?? activeSite.ActiveSite, cancellationToken);

    private string? SiteTheLinksPointAt() =>
        gatewayOptions.Value.Filestore.Links.FirstOrDefault() is { } link ? topology.Sites.FirstOrDefault(site => FilestoreLink.PointsAt(link, site.SanPath))?.Id : null;

    /// <summary>Replicates <paramref name="sourceSiteId"/>'s SAN to the other site's; stops a replicator running the other way first. Does nothing if already so.</summary>
    public async Task ReplicateFromAsync(string sourceSiteId, CancellationToken cancellation)
    {
        var direction = ReplicationDirection.Between(topology.Site(sourceSiteId), topology.PeerOf(sourceSiteId));
        await _switching.WaitAsync(cancellation);
        try
        {
            if (_current?.Direction == direction)
            {
                return;
            }

            await StopCurrentAsync();
            var (ledger, breaker) = _pair.Value;
            var replicator = new FilestoreReplicator(direction, options, time, logger, ledger, breaker);
            try
            {
                replicator.Start();
            }
            catch
            {
                // Its copy and scan threads end with it.
                await replicator.DisposeAsync();
                throw;
            }

            _current = replicator;
        }
        finally
        {
            _switching.Release();
        }
    }

    /// <summary>
    /// The filestore step of a failover: replicate what is left within <paramref name="deadline"/>, then stop, so that
    /// nothing is replicated after the link flips (a source coming back must never overwrite the new active side).
    /// </summary>
    public async Task<FinalSyncResult> FinalSyncAndStopAsync(TimeSpan deadline, CancellationToken cancellation)
    {
        await _switching.WaitAsync(cancellation);
        try
        {
            var replicator = _current ?? throw new InvalidOperationException("no filestore replication is running, so there is nothing to sync");
            var result = await replicator.FinalSyncAsync(deadline, cancellation);
            await StopCurrentAsync();
            return result;
        }
        finally
        {
            _switching.Release();
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Shutting down, the replicator stops even when a switch still holds the lock past the host's shutdown
        // timeout: a replicator left running could write into a SAN after the gateway is gone.
        var locked = false;
        try
        {
            locked = await _switching.WaitAsync(Timeout.InfiniteTimeSpan, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            await StopCurrentAsync();
        }
        finally
        {
            if (locked)
            {
                _switching.Release();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopCurrentAsync();
        if (_pair.IsValueCreated)
        {
            _pair.Value.Ledger.Dispose();
        }

        _switching.Dispose();
    }

    private async Task StopCurrentAsync()
    {
        if (_current is { } running)
        {
            _current = null;
            await running.DisposeAsync();
        }
    }
}
