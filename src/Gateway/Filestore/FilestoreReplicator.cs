using Polly;
using Polly.Retry;

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
public sealed partial class FilestoreReplicator : IAsyncDisposable
{
    private const string ReconcileAlarmKey = "(reconcile scan)";
    private const string ChangeFeedAlarmKey = "(change events)";

    private static readonly ResiliencePropertyKey<string> PathKey = new("filestore.path");

    /// <summary>How long a stop waits for copies and scans under way; one stuck on a hung mount is left behind.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly ReplicationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ReplicaScope _scope;
    private readonly ReplicaWriter _writer;

    // Copies into the source of what the target holds and the source never had; rare, so one copy thread.
    private readonly ReplicaWriter _backWriter;
    private readonly ReplicaLedger _ledger;
    private readonly DeleteBreaker _breaker;

    // Scans of both sides: a whole-tree reconcile, the subtree of a new directory; two, so that one long scan does not hold up the other.
    private readonly DedicatedThreads _scanThreads = new("filestore scan", 2);
    private readonly PendingChanges _pending = new();
    private readonly ReplicationAlarms _alarms = new();
    private readonly InitialSyncTracker _initialSync;
    private readonly TaskCompletionSource _initialSyncPlanned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ResiliencePipeline _retry;
    private readonly SemaphoreSlim _reconciling = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();

    private ChangeFeed? _changeFeed;
    private Task _running = Task.CompletedTask;
    private volatile ReconcileReport? _lastReconcile;
    private volatile bool _stopped;
    private long _changeEventOverflows;
    private long _watcherRestarts;
    private long _copiedBack;
    private DateTimeOffset _lastChecksumsAt;

    /// <param name="ledger">What both SANs of this pair were seen to hold alike; shared by both directions and kept across restarts by the caller.</param>
    /// <param name="breaker">The pair's mass-delete breaker; by default one of <see cref="ReplicationOptions.MaxDeletesPerMinute"/> kept in memory.</param>
    public FilestoreReplicator(
        ReplicationDirection direction, ReplicationOptions options, TimeProvider time, ILogger<FilestoreReplicator> logger, ReplicaLedger? ledger = null, DeleteBreaker? breaker = null)
    {
        Direction = direction;
        _options = options;
        _time = time;
        _logger = logger;
        _scope = ReplicaScope.For(options);
        _ledger = ledger ?? ReplicaLedger.InMemory();
        _breaker = breaker ?? new DeleteBreaker(options.MaxDeletesPerMinute, time, markerPath: null);
        _writer = new ReplicaWriter(direction.SourcePath, direction.TargetPath, options.MaxParallelCopies, _ledger.Matches);
        _backWriter = new ReplicaWriter(direction.TargetPath, direction.SourcePath, 1, static (_, _) => false, copiesBack: true);
        _initialSync = new InitialSyncTracker(time);
        _retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<IOException>().Handle<UnauthorizedAccessException>(),
                // A target that is full or gone is retried until it is back or replication is stopped; the alarm says so meanwhile.
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                OnRetry = args =>
                {
                    OnReplicationFailing(args.Context.Properties.GetValue(PathKey, "?"), args.Outcome.Exception!, args.AttemptNumber, args.RetryDelay);
                    return default;
                },
            })
            .Build();
    }

    public ReplicationDirection Direction { get; }

    public ReplicationStatus Status
    {
        get
        {
            var now = _time.GetUtcNow();
            var backlog = _pending.Measure();
            return new ReplicationStatus(
                Direction,
                CurrentState(),
                backlog.Files,
                backlog.Bytes,
                now - backlog.OldestChange,
                _lastReconcile,
                _initialSync.Progress(),
                Interlocked.Read(ref _changeEventOverflows),
                Interlocked.Read(ref _watcherRestarts),
                _alarms.Describe(Direction),
                now,
                _breaker.Describe(),
                Interlocked.Read(ref _copiedBack),
                (_changeFeed?.IsWatching ?? false) && !_pending.Has(""));
        }
    }

    /// <summary>
    /// Watches the source (before this returns), then plans and runs the initial sync and keeps replicating until
    /// stopped. A SAN directory that is not there (yet) does not stop it: that is an alarm in the status, and the
    /// initial sync begins once both are there, so a gateway can start while a site's storage is away.
    /// </summary>
    public void Start()
    {
        if (_changeFeed is not null || _stopped)
        {
            throw new InvalidOperationException($"replication {Direction} was already started; a replicator runs once");
        }

        _lastChecksumsAt = _time.GetUtcNow();
        _changeFeed = new ChangeFeed(Direction.SourcePath, _scope, OnChanged, OnChangeEventsLost);
        try
        {
            _changeFeed.EnsureWatching();
        }
        catch (ReplicationException notWatching)
        {
            // Retried before every reconcile scan, which fails (and is tried again soon) until it can watch: a scan
            // only counts when every change after it will be reported.
            _alarms.Raise(ReplicaSide.Source, ChangeFeedAlarmKey, notWatching.Message);
        }

        Log.Started(_logger, Direction.ToString(), _options.MaxParallelCopies, _options.Deletes);

        var stopping = _stopping.Token;
        // MaxParallelCopies of them copy bytes at a time (on the writer's copy threads); the others have written theirs and
        // wait for their group to be flushed and renamed into place, or do the cheap rest (directories, deletes).
        var workers = Enumerable.Range(0, _options.MaxParallelCopies + ReplicaWriter.MaxCopiesAwaitingFlush)
            .Select(_ => Task.Run(() => ReplicateChangesAsync(stopping), stopping));
        _running = Task.WhenAll([
            Task.Run(() => RunReconcilesAsync(stopping), stopping), Task.Run(() => LogInitialSyncProgressAsync(stopping), stopping),
            Task.Run(() => FlushLedgerAsync(stopping), stopping), .. workers]);
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
        _changeFeed?.Dispose();
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
            Log.StopAbandoned(_logger, Direction.ToString(), StopTimeout);
        }

        Log.Stopped(_logger, Direction.ToString());
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
            _scanThreads.Dispose();
            _stopping.Dispose();
            _reconciling.Dispose();
        }
    }

    /// <summary>Completes once the initial sync is planned and every change known so far has been replicated (or failed and been given up by a stop).</summary>
    public async Task WaitUntilCaughtUpAsync(CancellationToken cancellation)
    {
        await _initialSyncPlanned.Task.WaitAsync(cancellation);
        await _pending.WhenDrainedAsync(cancellation);
    }

    /// <summary>
    /// For failover: replicates what is left within <paramref name="deadline"/>, scanning both sides until they agree,
    /// and returns whether the target is a complete replica, or exactly which paths did not make it. Replication goes
    /// on afterwards; the caller stops it before the link is flipped.
    /// </summary>
    public async Task<FinalSyncResult> FinalSyncAsync(TimeSpan deadline, CancellationToken cancellation)
    {
        var started = _time.GetTimestamp();
        using var deadlineSource = new CancellationTokenSource(deadline, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellation, deadlineSource.Token);
        string? failure = null;
        try
        {
            // Done when the target lacks nothing the source holds; what the target holds beyond that (copies back,
            // deletes held) does not make it an incomplete replica.
            while ((await ReconcileAsync(ReconcileTrigger.FinalSync, linked.Token)).Any(ReplicationPlan.TargetLacks))
            {
                await _pending.WhenDrainedAsync(linked.Token);
            }
        }
        catch (OperationCanceledException) when (deadlineSource.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            failure = $"the deadline of {deadline} passed before the target caught up";
        }
        catch (ReplicationException e)
        {
            failure = e.Message;
        }

        var (notReplicated, accountingNote) = failure is null ? ([], null) : await AccountForUnreplicatedAsync(cancellation);
        var result = new FinalSyncResult(
            Direction, failure is null, notReplicated, _time.GetElapsedTime(started), failure is null ? null : failure + accountingNote, ComparedBothSides: accountingNote is null);
        Log.FinalSync(_logger, failure is null ? LogLevel.Information : LogLevel.Warning, Direction.ToString(), result.TargetIsCompleteReplica,
            notReplicated.Count, result.Elapsed, result.Failure ?? "none");
        return result;
    }

    /// <summary>
    /// After a final sync gave up: what differs right now (a fresh scan, so a path copied meanwhile is not listed),
    /// or, with the source unreadable, every change the events reported that was not replicated.
    /// </summary>
    private async Task<(IReadOnlyList<string> Paths, string? Note)> AccountForUnreplicatedAsync(CancellationToken cancellation)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(AccountingTimeout);
        try
        {
            var differences = await CompareSidesAsync("", bounded.Token).WaitAsync(bounded.Token);
            return (differences.Where(ReplicationPlan.TargetLacks).Select(d => d.Path).ToList(), null);
        }
        catch (ReplicationException e)
        {
            return (_pending.Paths(), $"; listing the changes reported by events only, since a scan failed: {e.Message}");
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return (_pending.Paths(), $"; listing the changes reported by events only, since a scan did not answer within {AccountingTimeout.TotalSeconds:0} s (a hung mount?)");
        }
    }

    /// <summary>How long the accounting after a failed final sync may scan both sides before it falls back to what events reported.</summary>
    private static readonly TimeSpan AccountingTimeout = TimeSpan.FromSeconds(5);

    private ReplicationState CurrentState() => _stopped ? ReplicationState.Stopped
        : _alarms.IsRaised ? ReplicationState.Degraded
        : _initialSync.Completed ? ReplicationState.Streaming
        : ReplicationState.InitialSync;

    /// <summary>Runs on the watcher's event thread, which must never see an exception (it would stop the watcher).</summary>
    private void OnChanged(ChangeHint hint)
    {
        var file = new FileInfo(_writer.SourcePath(hint.Path));
        _pending.Add(hint, file.Exists ? file.Length : 0, _time.GetUtcNow());
    }

    /// <summary>Runs on the watcher's event thread, after the watcher was replaced: a rescan started now misses nothing.</summary>
    private void OnChangeEventsLost(ChangeEventsLost loss)
    {
        Interlocked.Increment(ref _watcherRestarts);
        switch (loss.Cause)
        {
            case EventLossCause.QueueOverflow:
                Interlocked.Increment(ref _changeEventOverflows);
                Log.ChangeEventsOverflowed(_logger, Direction.SourcePath, loss.Detail);
                break;
            case EventLossCause.WatcherError:
                Log.ChangeFeedFailed(_logger, Direction.SourcePath, loss.Detail);
                break;
            default:
                Log.Rewatched(_logger, Direction.SourcePath, loss.Detail);
                break;
        }

        if (!loss.WatchingAgain)
        {
            _alarms.Raise(ReplicaSide.Source, ChangeFeedAlarmKey,
                $"not watching {Direction.SourcePath} for changes since {loss.Detail}: {loss.RestartFailure}; only reconcile scans replicate until it can be watched again");
        }

        // The whole tree, queued like any change: being caught up then includes this rescan.
        _pending.Add(new ChangeHint("", ScanSubtree: true), 0, _time.GetUtcNow());
    }

    private async Task ReplicateChangesAsync(CancellationToken stopping)
    {
        while (true)
        {
            var change = await _pending.TakeAsync(stopping);
            try
            {
                await ReplicateWithRetriesAsync(change, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception bug)
            {
                // Not a file system failure (those are retried): say so loudly; the next reconcile queues the path again.
                _alarms.Raise(ReplicaSide.Target, change.Path, $"replicating {change.Path} failed unexpectedly: {bug.Message}");
                Log.ReplicationFailedUnexpectedly(_logger, change.Path, Direction.ToString(), bug);
            }
            finally
            {
                _pending.Complete(change);
            }
        }
    }

    private async Task ReplicateWithRetriesAsync(PendingChange change, CancellationToken stopping)
    {
        var context = ResilienceContextPool.Shared.Get(stopping);
        context.Properties.Set(PathKey, change.Path);
        bool settled;
        try
        {
            settled = await _retry.ExecuteAsync(
                static (context, state) => state.Replicator.ReplicateAsync(state.Change, context.CancellationToken), context, (Replicator: this, Change: change));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        if (_alarms.Clear(change.Path))
        {
            Log.ReplicationRecovered(_logger, change.Path, Direction.ToString());
        }

        if (settled && _initialSync.Replicated(change.Path))
        {
            LogInitialSyncCompleted();
        }
    }

    /// <summary>Brings one path of the target in line with the source; false when it had to be queued again.</summary>
    private async ValueTask<bool> ReplicateAsync(PendingChange change, CancellationToken cancellation)
    {
        var path = change.Path;
        if (path.Length == 0)
        {
            // The whole-tree rescan after events were lost counts only if every change after it will be reported:
            // a watcher that could not be restarted is tried again here, retried with backoff until it can.
            RestartChangeFeedIfItFailed();
        }

        if (change.Hint.RenamedFrom is { } renamedFrom)
        {
            if (_options.Deletes == DeletePolicy.Propagate)
            {
                MoveReplicaIfPossible(renamedFrom, path);
            }

            // Whatever the move did not take care of under the old name (everything, when deletes are kept) is replicated as usual.
            _pending.Add(new ChangeHint(renamedFrom), 0, change.FirstSeen);
        }

        var source = ReadSource(path);
        var target = ReadSide(ReplicaSide.Target, path);
        var decision = EntryDecision.Decide(source, target, target is not null && _ledger.Matches(path, target), change.Hint.ContentChanged, _options.Deletes);
        Log.Deciding(_logger, path, change.Hint, source, target, decision);
        var settled = true;
        var held = false;
        switch (decision)
        {
            case ReplicaAction.CopyFile:
                await ClearDirectoryForAsync(change, target, cancellation);
                settled = await CopyAsync(change, cancellation);
                break;
            case ReplicaAction.CreateDirectory:
                _writer.CreateDirectory(path);
                break;
            case ReplicaAction.CreateSymlink:
                await ClearDirectoryForAsync(change, target, cancellation);
                _writer.CreateSymlink(path, source!.LinkTarget!, entry => _ledger.Record(path, entry));
                break;
            case ReplicaAction.DeleteFromTarget:
                held = !await RemoveFromTargetAsync(change, target!, cancellation);
                break;
            case ReplicaAction.CopyBack:
                settled = await CopyBackAsync(change, target!, cancellation);
                break;
            case ReplicaAction.Conflict:
                throw new ReplicationException(ReplicaSide.Target,
                    $"conflict at {path}: the source holds a {source!.Kind.ToString().ToLowerInvariant()}, the target a {target!.Kind.ToString().ToLowerInvariant()} the source never had; " +
                    "neither is replaced (that would lose data), resolve it by hand");
        }

        if (settled)
        {
            RecordAgreement(path, decision);
        }

        if (source is null)
        {
            if (!held)
            {
                QueueStaleAncestor(change);
            }

            return settled;
        }

        if (decision != ReplicaAction.None && ReadSide(ReplicaSide.Source, path) is null)
        {
            // An ancestor was renamed on the source while this was replicated (no event names the entries under a
            // renamed directory): what was just created on the target sits under a name the source no longer has.
            _pending.Add(new ChangeHint(path), 0, change.FirstSeen);
            return false;
        }

        if (source.Kind == EntryKind.Directory && change.Hint.ScanSubtree)
        {
            var differences = await CompareSidesAsync(path, cancellation);
            Queue(ReplicationPlan.From(differences, _options.Deletes, _ledger.Matches), change.FirstSeen);
        }

        return settled;
    }

    private async Task<bool> CopyAsync(PendingChange change, CancellationToken cancellation)
    {
        var (outcome, bytes) = await _writer.CopyFileAsync(change.Path, cancellation, entry => _ledger.Record(change.Path, entry));
        if (outcome == CopyOutcome.Copied)
        {
            return true;
        }

        // Gone: the next look deletes it from the target. Changed: copy it again once it holds still (its events will say so too).
        _pending.Add(new ChangeHint(change.Path, ContentChanged: outcome == CopyOutcome.SourceChangedDuringCopy), bytes, change.FirstSeen);
        return false;
    }

    /// <summary>What the ledger learns from one settled path beyond what the worker recorded while writing: an entry both sides hold alike came from the source.</summary>
    private void RecordAgreement(string path, ReplicaAction done)
    {
        if (path.Length == 0)
        {
            return;
        }

        // A path neither side holds keeps its records: a copy recorded before it lands may still land; the reconcile
        // forgets records of paths two scans in a row found on neither side.
        var target = ReadSide(ReplicaSide.Target, path);
        if (target is null)
        {
            return;
        }

        // What this worker wrote was recorded before it was put in place (see ReplicaWriter.CopyFileAsync).
        if (done == ReplicaAction.None && ReadSide(ReplicaSide.Source, path) is { } source && SnapshotComparison.Difference(source, target) is null)
        {
            _ledger.Record(path, target);
        }
    }

    /// <summary>
    /// A source file or symlink now stands where the target has a directory the source once had: the directory's
    /// entries go first, each by the ledger's rule, so that only an empty directory is replaced.
    /// </summary>
    private async Task ClearDirectoryForAsync(PendingChange change, ReplicaEntry? target, CancellationToken cancellation)
    {
        if (target is { Kind: EntryKind.Directory })
        {
            await RemoveFromTargetAsync(change, target, cancellation);
            if (DirectoryScanner.Read(_writer.TargetPath(change.Path)) is { Kind: EntryKind.Directory })
            {
                // Its entries are queued; this path comes back once they are decided.
                throw new ReplicationException(ReplicaSide.Target, $"{_writer.TargetPath(change.Path)} still holds entries being decided one by one before a file can replace it");
            }
        }
    }

    /// <summary>
    /// The source removed what the target's entry came from: a file or symlink goes (if the breaker allows). A
    /// directory is never removed with what is in it: each file and symlink below is queued, to be decided by its own
    /// worker (a copy of it may be under way, and only its worker can know), and empty directories are removed, deepest
    /// first; each file's worker queues the directory again once it is gone (<see cref="QueueStaleAncestor"/>).
    /// </summary>
    /// <returns>False when the delete was held by the breaker.</returns>
    private async Task<bool> RemoveFromTargetAsync(PendingChange change, ReplicaEntry target, CancellationToken cancellation)
    {
        if (target.Kind != EntryKind.Directory)
        {
            return DeleteIfAllowed(change.Path, target);
        }

        var below = await _scanThreads.RunAsync(() => ScanSide(ReplicaSide.Target, change.Path, cancellation), cancellation).WaitAsync(cancellation);
        foreach (var leftover in below.ReplicaTempFiles)
        {
            // The replicator's own, left by a copy that failed or was cancelled (one under way is left alone).
            _writer.DeleteLeftoverTemp(leftover);
        }

        foreach (var (path, entry) in below.Entries.OrderByDescending(pair => pair.Key, StringComparer.Ordinal))
        {
            if (entry.Kind == EntryKind.Directory)
            {
                _writer.RemoveDirectoryIfEmpty(path);
            }
            else
            {
                _pending.Add(new ChangeHint(path), 0, change.FirstSeen);
            }
        }

        _writer.RemoveDirectoryIfEmpty(change.Path);
        return true;
    }

    private bool DeleteIfAllowed(string path, ReplicaEntry entry)
    {
        if (!_breaker.TryDelete(path))
        {
            Log.DeleteHeld(_logger, path, Direction.ToString(), _options.MaxDeletesPerMinute);
            return false;
        }

        // Only what was really removed is forgotten: an entry renamed away meanwhile keeps its record, which the rename carries.
        if (_writer.Delete(path))
        {
            _ledger.Forget(path, entry);
        }

        return true;
    }

    /// <summary>
    /// The target holds what the source never had (written while the target's site was active, say): it is copied
    /// to the source, never deleted, and from then on both hold it. A directory is created there and its entries
    /// queued one by one.
    /// </summary>
    private async Task<bool> CopyBackAsync(PendingChange change, ReplicaEntry target, CancellationToken cancellation)
    {
        switch (target.Kind)
        {
            case EntryKind.File:
                var (outcome, bytes) = await _backWriter.CopyFileAsync(change.Path, cancellation, entry => _ledger.Record(change.Path, entry));
                if (outcome != CopyOutcome.Copied)
                {
                    // Gone from the target, changed while read, or the source got a file of that name meanwhile: look again.
                    _pending.Add(new ChangeHint(change.Path), bytes, change.FirstSeen);
                    return false;
                }

                break;
            case EntryKind.Symlink:
                _backWriter.CreateSymlink(change.Path, target.LinkTarget!, entry => _ledger.Record(change.Path, entry));
                break;
            default:
                _backWriter.CreateDirectory(change.Path);
                var differences = await CompareSidesAsync(change.Path, cancellation);
                Queue(ReplicationPlan.From(differences, _options.Deletes, _ledger.Matches), change.FirstSeen);
                break;
        }

        Interlocked.Increment(ref _copiedBack);
        Log.CopiedBack(_logger, change.Path, Direction.TargetPath, Direction.SourcePath);
        return true;
    }

    /// <summary>Deletes held by the breaker are looked at again, and deleted if the source still lacks them and the ledger still knows them.</summary>
    public int ReleaseHeldDeletes()
    {
        var held = _breaker.Release();
        foreach (var path in held)
        {
            _pending.Add(new ChangeHint(path), 0, _time.GetUtcNow());
        }

        return held.Count;
    }

    private async Task FlushLedgerAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _time);
        while (await timer.WaitForNextTickAsync(stopping))
        {
            try
            {
                _ledger.Flush();
            }
            catch (IOException e)
            {
                // A ledger entry lost to a crash only turns a later delete into a copy back; say so, and keep replicating.
                Log.LedgerFlushFailed(_logger, Direction.ToString(), e.Message);
            }
        }
    }

    /// <summary>
    /// The path is gone from the source; so may be directories above it that a racing copy recreated on the target
    /// (it creates missing parents). The nearest such directory is queued: deleting it takes everything below.
    /// </summary>
    private void QueueStaleAncestor(PendingChange change)
    {
        if (_options.Deletes != DeletePolicy.Propagate)
        {
            return;
        }

        for (var slash = change.Path.LastIndexOf('/'); slash > 0; slash = change.Path.LastIndexOf('/', slash - 1))
        {
            var ancestor = change.Path[..slash];
            if (ReadSide(ReplicaSide.Source, ancestor) is not null)
            {
                return;
            }

            if (ReadSide(ReplicaSide.Target, ancestor) is not null)
            {
                _pending.Add(new ChangeHint(ancestor), 0, change.FirstSeen);
                return;
            }
        }
    }

    private void MoveReplicaIfPossible(string from, string to)
    {
        var targetNew = ReadSide(ReplicaSide.Target, to);
        if (EntryDecision.CanMoveReplica(
                ReadSide(ReplicaSide.Source, from), ReadSide(ReplicaSide.Source, to), ReadSide(ReplicaSide.Target, from), targetNew, targetNew is not null && _ledger.Matches(to, targetNew))
            && _writer.Move(from, to))
        {
            _ledger.Move(from, to);
            Log.MovedReplica(_logger, from, to, Direction.TargetPath);
        }
    }

    private void OnReplicationFailing(string path, Exception error, int attempt, TimeSpan retryIn)
    {
        _alarms.Raise(error is ReplicationException { Side: var side } ? side : ReplicaSide.Target, path, error.Message);
        // Every retry is in the status; the log gets the first failure and then one line per ten attempts.
        if (attempt % 10 == 0)
        {
            Log.ReplicationFailing(_logger, path, Direction.ToString(), attempt + 1, error.Message, retryIn);
        }
    }

    private async Task RunReconcilesAsync(CancellationToken stopping)
    {
        var trigger = ReconcileTrigger.Start;
        while (true)
        {
            TimeSpan wait;
            try
            {
                await ReconcileAsync(trigger, stopping);
                wait = _options.ReconcileInterval;
            }
            catch (ReplicationException)
            {
                // Recorded in the status and the alarm by ReconcileAsync; tried again sooner than the usual interval.
                wait = SoonerOf(_options.RetryMaxDelay, _options.ReconcileInterval);
            }
            catch (Exception bug) when (bug is not OperationCanceledException)
            {
                _alarms.Raise(ReplicaSide.Source, ReconcileAlarmKey, $"reconcile failed unexpectedly: {bug.Message}");
                Log.ReconcileFailedUnexpectedly(_logger, Direction.ToString(), bug);
                wait = SoonerOf(_options.RetryMaxDelay, _options.ReconcileInterval);
            }

            await Task.Delay(wait, _time, stopping);
            trigger = _initialSyncPlanned.Task.IsCompleted ? ReconcileTrigger.Schedule : ReconcileTrigger.Start;
        }
    }

    private static TimeSpan SoonerOf(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Scans both sides, queues every difference the target must follow, and returns those differences.</summary>
    private async Task<IReadOnlyList<SnapshotDifference>> ReconcileAsync(ReconcileTrigger trigger, CancellationToken cancellation)
    {
        await _reconciling.WaitAsync(cancellation);
        var startedAt = _time.GetUtcNow();
        var checksums = trigger == ReconcileTrigger.Schedule && startedAt - _lastChecksumsAt >= _options.ChecksumInterval;
        try
        {
            RestartChangeFeedIfItFailed();
            // WaitAsync: a scan stuck on a hung mount must not hold a final sync past its deadline.
            var (source, target) = await _scanThreads.RunAsync(() => (ScanSide(ReplicaSide.Source, "", cancellation), ScanSide(ReplicaSide.Target, "", cancellation)), cancellation)
                .WaitAsync(cancellation);
            if (checksums)
            {
                (source, target) = await AddChecksumsAsync(source, target, cancellation);
                _lastChecksumsAt = startedAt;
            }

            foreach (var leftover in target.ReplicaTempFiles)
            {
                _writer.DeleteLeftoverTemp(leftover);
            }

            if (trigger != ReconcileTrigger.FinalSync)
            {
                // Not during a final sync, which scans again and again while writes wait: a snapshot of a large ledger takes a while.
                _ledger.Reconcile(source, target);
            }

            var differences = SnapshotComparison.Compare(source, target).Where(d => ReplicationPlan.Needs(d, _options.Deletes, _ledger.Matches)).ToList();
            var plan = ReplicationPlan.From(differences, _options.Deletes, _ledger.Matches);
            if (trigger == ReconcileTrigger.Start)
            {
                StartInitialSync(plan, startedAt);
            }
            else
            {
                Queue(plan, startedAt);
            }

            if (trigger == ReconcileTrigger.Schedule && plan.Count > 0)
            {
                // Some may be changes whose events are still on their way; a fresh watcher costs little either way.
                _changeFeed!.Restart(EventLossCause.ReconcileFoundDifferences, $"the scheduled reconcile found {plan.Count} difference(s)");
            }

            _alarms.Clear(ReconcileAlarmKey);
            Record(new ReconcileReport(trigger, startedAt, _time.GetUtcNow(), checksums, source.Entries.Count, plan.Count, null));
            return differences;
        }
        catch (ReplicationException failure)
        {
            _alarms.Raise(failure.Side, ReconcileAlarmKey, $"reconcile scan failed: {failure.Message}");
            Record(new ReconcileReport(trigger, startedAt, _time.GetUtcNow(), checksums, 0, 0, failure.Message));
            throw;
        }
        finally
        {
            _reconciling.Release();
        }
    }

    private void RestartChangeFeedIfItFailed()
    {
        if (_changeFeed!.IsWatching)
        {
            return;
        }

        // Before the scan, so that a change made during the scan is either seen by it or reported by the watcher.
        _changeFeed.EnsureWatching();
        _alarms.Clear(ChangeFeedAlarmKey);
    }

    private void StartInitialSync(IReadOnlyList<PlannedChange> plan, DateTimeOffset firstSeen)
    {
        Log.InitialSyncPlanned(_logger, Direction.ToString(), plan.Count, plan.Sum(change => change.Bytes));
        // Begun before the plan is queued, so no worker can finish a path the tracker does not know yet.
        if (_initialSync.Begin(plan))
        {
            LogInitialSyncCompleted();
        }

        Queue(plan, firstSeen);
        // Only now: whoever waits to be caught up must find the plan queued, not the empty queue before it.
        _initialSyncPlanned.TrySetResult();
    }

    private void Queue(IReadOnlyList<PlannedChange> plan, DateTimeOffset firstSeen)
    {
        foreach (var change in plan)
        {
            _pending.Add(change.Hint, change.Bytes, firstSeen);
        }
    }

    private void Record(ReconcileReport report)
    {
        _lastReconcile = report;
        Log.Reconciled(_logger, report.Succeeded ? (report.DifferencesQueued > 0 ? LogLevel.Information : LogLevel.Debug) : LogLevel.Warning,
            Direction.ToString(), report.Trigger, report.ComparedChecksums, report.SourceEntries, report.DifferencesQueued, report.Failure ?? "none");
    }

    /// <summary>SHA-256 of every file that size and time say is identical on both sides; only those can hide a difference.</summary>
    private async Task<(DirectorySnapshot Source, DirectorySnapshot Target)> AddChecksumsAsync(
        DirectorySnapshot source, DirectorySnapshot target, CancellationToken cancellation)
    {
        var alike = source.Entries
            .Where(pair => pair.Value.Kind == EntryKind.File
                && target.Entries.TryGetValue(pair.Key, out var twin)
                && SnapshotComparison.Difference(pair.Value, twin) is null)
            .Select(pair => pair.Key)
            .ToList();
        return (await HashSideAsync(ReplicaSide.Source, source, alike, cancellation), await HashSideAsync(ReplicaSide.Target, target, alike, cancellation));
    }

    private async Task<DirectorySnapshot> HashSideAsync(ReplicaSide side, DirectorySnapshot snapshot, IReadOnlyList<string> paths, CancellationToken cancellation)
    {
        var root = RootOf(side);
        try
        {
            return await ContentHasher.AddHashesAsync(root, snapshot, paths, cancellation);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReplicationException(side, $"cannot read files under {root} for checksums: {e.Message}", e);
        }
    }

    /// <summary>What differs between the sides under <paramref name="subtree"/> (the whole tree after lost events), scanned off the thread pool.</summary>
    private Task<IReadOnlyList<SnapshotDifference>> CompareSidesAsync(string subtree, CancellationToken cancellation) =>
        _scanThreads.RunAsync(
            () => SnapshotComparison.Compare(ScanSide(ReplicaSide.Source, subtree, cancellation), ScanSide(ReplicaSide.Target, subtree, cancellation)), cancellation);

    private DirectorySnapshot ScanSide(ReplicaSide side, string subtree, CancellationToken cancellation)
    {
        var root = RootOf(side);
        try
        {
            return DirectoryScanner.Scan(root, subtree, _scope, cancellation);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReplicationException(side, $"cannot scan {Path.Join(root, subtree)}: {e.Message}", e);
        }
    }

    /// <summary>
    /// The source's entry, where "nothing there" is only believed while the source directory itself is there: a
    /// source that is gone (unmounted, lost) must never read as "everything was deleted", nor drop a pending change.
    /// </summary>
    private ReplicaEntry? ReadSource(string path)
    {
        var entry = ReadSide(ReplicaSide.Source, path);
        if (entry is null && !Directory.Exists(Direction.SourcePath))
        {
            throw new ReplicationException(ReplicaSide.Source, $"the source directory {Direction.SourcePath} is gone; nothing is replicated until it is back");
        }

        return entry;
    }

    private ReplicaEntry? ReadSide(ReplicaSide side, string path)
    {
        var fullPath = Path.Join(RootOf(side), path);
        try
        {
            return DirectoryScanner.Read(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ReplicationException(side, $"cannot stat {fullPath}: {e.Message}", e);
        }
    }

    private string RootOf(ReplicaSide side) => side == ReplicaSide.Source ? Direction.SourcePath : Direction.TargetPath;

    private async Task LogInitialSyncProgressAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.ProgressLogInterval, _time);
        while (await timer.WaitForNextTickAsync(stopping) && !_initialSync.Completed)
        {
            if (_initialSync.Progress() is { StartedAt: not null } progress)
            {
                Log.InitialSyncProgress(_logger, Direction.ToString(), progress.FilesDone, progress.FilesTotal, progress.BytesDone, progress.BytesTotal,
                    (progress.BytesPerSecond ?? 0) / 1e6, progress.EstimatedRemaining?.ToString(@"hh\:mm\:ss") ?? "unknown");
            }
        }
    }

    private void LogInitialSyncCompleted()
    {
        var progress = _initialSync.Progress();
        Log.InitialSyncCompleted(_logger, Direction.ToString(), progress.FilesTotal, progress.BytesTotal,
            (progress.CompletedAt - progress.StartedAt) ?? TimeSpan.Zero, (progress.BytesPerSecond ?? 0) / 1e6);
    }
}
