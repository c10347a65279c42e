namespace Gateway.Filestore;

/// <summary>
/// Replicates one SAN directory to the other, one direction at a time. At start a full scan of both sides plans
/// the initial sync; from then on change events of the source queue each changed path, and a periodic reconcile
/// scan (size and time, SHA-256 on its own schedule) queues whatever events missed. Workers replicate queued paths
/// a few at a time, each by looking at both sides again and doing what <see cref="EntryDecision"/> says. A failing
/// path is retried with backoff and raised as an alarm in <see cref="Status"/> until it succeeds.
/// Deletes follow the <see cref="ReplicaLedger"/>: the target loses an entry only if both sides were seen to hold it
/// alike; whatever the target holds that the source never had is copied back to the source instead, and the
/// <see cref="DeleteBreaker"/> holds deletes beyond a minute's allowance.
/// </summary>
/// <remarks>
/// The composition of its jobs: <see cref="SourceWatch"/> (change events and their loss), <see cref="ReconcileScanner"/>
/// (full comparisons), <see cref="InitialSync"/>, <see cref="ReplicationWorkers"/> running a <see cref="PathReplicator"/>
/// per path (deletes through <see cref="TargetRemoval"/>), <see cref="FinalSync"/> for a failover,
/// <see cref="LedgerFlusher"/> and the <see cref="ReplicationStatusReader"/>.
/// </remarks>
public sealed class FilestoreReplicator : IAsyncDisposable
{
    /// <summary>How long a stop waits for copies and scans under way; one stuck on a hung mount is left behind.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly ReplicationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ReplicaLedger _ledger;
    private readonly ReplicaWriter _writer;

    // Copies into the source of what the target holds and the source never had; rare, so one copy thread.
    private readonly ReplicaWriter _backWriter;
    private readonly ReplicaSides _sides;
    private readonly PendingChanges _pending = new();
    private readonly SourceWatch _watch;
    private readonly InitialSync _initialSync;
    private readonly ReconcileScanner _scanner;
    private readonly TargetRemoval _removal;
    private readonly ReplicationWorkers _workers;
    private readonly FinalSync _finalSync;
    private readonly LedgerFlusher _ledgerFlusher;
    private readonly ReplicationStatusReader _status;
    private readonly CancellationTokenSource _stopping = new();

    private Task _running = Task.CompletedTask;
    private bool _started;
    private volatile bool _stopped;

    /// <param name="ledger">What both SANs of this pair were seen to hold alike; shared by both directions and kept across restarts by the caller.</param>
    /// <param name="breaker">The pair's mass-delete breaker; by default one of <see cref="ReplicationOptions.MaxDeletesPerMinute"/> kept in memory.</param>
    public FilestoreReplicator(
        ReplicationDirection direction, ReplicationOptions options, TimeProvider time, ILogger<FilestoreReplicator> logger, ReplicaLedger? ledger = null, DeleteBreaker? breaker = null)
    {
        Direction = direction;
        _options = options;
        _time = time;
        _logger = logger;
        _ledger = ledger ?? ReplicaLedger.InMemory();
        breaker ??= new DeleteBreaker(options.MaxDeletesPerMinute, time, markerPath: null);
        var scope = ReplicaScope.For(options);
        var alarms = new ReplicationAlarms();
        _writer = new ReplicaWriter(direction.SourcePath, direction.TargetPath, options.MaxParallelCopies, _ledger.Matches);
        _backWriter = new ReplicaWriter(direction.TargetPath, direction.SourcePath, 1, static (_, _) => false, copiesBack: true);
        _sides = new ReplicaSides(direction, scope);
        _watch = new SourceWatch(direction, scope, _pending, alarms, time, logger);
        _initialSync = new InitialSync(direction, _pending, time, logger);
        _scanner = new ReconcileScanner(direction, options, _sides, _writer, _ledger, _pending, alarms, _watch, _initialSync, time, logger);
        _removal = new TargetRemoval(direction, options, _sides, _writer, _ledger, breaker, _pending, logger);
        var paths = new PathReplicator(direction, options, _sides, _writer, _backWriter, _ledger, _pending, _watch, _removal, logger);
        _workers = new ReplicationWorkers(direction, options, paths, _pending, alarms, _initialSync, time, logger);
        _finalSync = new FinalSync(direction, _scanner, _sides, _pending, time, logger);
        _ledgerFlusher = new LedgerFlusher(direction, _ledger, time, logger);
        _status = new ReplicationStatusReader(direction, _pending, alarms, _initialSync, _scanner, _watch, breaker, paths, time);
    }

    public ReplicationDirection Direction { get; }

    public ReplicationStatus Status => _status.Read(_stopped);

    /// <summary>
    /// Watches the source (before this returns), then plans and runs the initial sync and keeps replicating until
    /// stopped. A SAN directory that is not there (yet) does not stop it: that is an alarm in the status, and the
    /// initial sync begins once both are there, so a gateway can start while a site's storage is away.
    /// </summary>
    public void Start()
    {
        if (_started || _stopped)
        {
            throw new InvalidOperationException($"replication {Direction} was already started; a replicator runs once");
        }

        _started = true;
        _watch.Start();
        ReplicatorLog.Started(_logger, Direction.ToString(), _options.MaxParallelCopies, _options.Deletes);

        var stopping = _stopping.Token;
        _running = Task.WhenAll(
            Task.Run(() => _scanner.RunAsync(stopping), stopping),
            Task.Run(() => _initialSync.LogProgressAsync(_options.ProgressLogInterval, stopping), stopping),
            Task.Run(() => _ledgerFlusher.RunAsync(stopping), stopping),
            _workers.RunAsync(stopping));
    }

    /// <summary>Stops watching and replicating; a copy under way is abandoned and its temp file removed. Safe to call twice.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _stopping.CancelAsync();
        _watch.Dispose();
        try
        {
            // A worker stuck in the kernel on a hung mount never returns: the stop is bounded, and such a worker abandoned.
            await _running.WaitAsync(StopTimeout, _time);
        }
        catch (OperationCanceledException)
        {
            // The loops end by cancellation; that is the normal way out.
        }
        catch (TimeoutException)
        {
            ReplicatorLog.StopAbandoned(_logger, Direction.ToString(), StopTimeout);
        }

        ReplicatorLog.Stopped(_logger, Direction.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _ledger.Flush();
            _writer.Dispose();
            _backWriter.Dispose();
            _sides.Dispose();
            _stopping.Dispose();
            _scanner.Dispose();
        }
    }

    /// <summary>Completes once the initial sync is planned and every change known so far has been replicated (or failed and been given up by a stop).</summary>
    public async Task WaitUntilCaughtUpAsync(CancellationToken cancellation)
    {
        await _initialSync.Planned.WaitAsync(cancellation);
        await _pending.WhenDrainedAsync(cancellation);
    }

    /// <summary>
    /// For failover: replicates what is left within <paramref name="deadline"/>, scanning both sides until they agree,
    /// and returns whether the target is a complete replica, or exactly which paths did not make it. Replication goes
    /// on afterwards; the caller stops it before the link is flipped.
    /// </summary>
    public Task<FinalSyncResult> FinalSyncAsync(TimeSpan deadline, CancellationToken cancellation) => _finalSync.RunAsync(deadline, cancellation);

    /// <summary>Deletes held by the breaker are looked at again, and deleted if the source still lacks them and the ledger still knows them.</summary>
    public int ReleaseHeldDeletes() => _removal.ReleaseHeld(_time.GetUtcNow());
}
