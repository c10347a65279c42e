namespace Gateway.Filestore;

/// <summary>
/// The source watched for changes: each change event queues its path, and each time events may have been lost the
/// whole tree is queued for a rescan. A source that cannot be watched is an alarm, and watching is tried again
/// before every scan, which only counts when every change after it will be reported.
/// </summary>
internal sealed class SourceWatch : IDisposable
{
    private const string AlarmKey = "(change events)";

    private readonly ReplicationDirection _direction;
    private readonly PendingChanges _pending;
    private readonly ReplicationAlarms _alarms;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ChangeFeed _feed;
    private long _changeEventOverflows;
    private long _watcherRestarts;

    /// <summary>Not watching yet: <see cref="Start"/> does.</summary>
    public SourceWatch(ReplicationDirection direction, ReplicaScope scope, PendingChanges pending, ReplicationAlarms alarms, TimeProvider time, ILogger logger)
    {
        _direction = direction;
        _pending = pending;
        _alarms = alarms;
        _time = time;
        _logger = logger;
        _feed = new ChangeFeed(direction.SourcePath, scope, OnChanged, OnChangeEventsLost);
    }

    public bool IsWatching => _feed.IsWatching;

    public long ChangeEventOverflows => Interlocked.Read(ref _changeEventOverflows);

    public long WatcherRestarts => Interlocked.Read(ref _watcherRestarts);

    /// <summary>Starts watching; a source that cannot be watched (not there yet) is an alarm, retried by <see cref="RestartIfItFailed"/>.</summary>
    public void Start()
    {
        try
        {
            _feed.EnsureWatching();
        }
        catch (ReplicationException notWatching)
        {
            _alarms.Raise(ReplicaSide.Source, AlarmKey, notWatching.Message);
        }
    }

    /// <summary>Watches again if it stopped; call it before a scan, so that a change made during the scan is either seen by it or reported by the watcher.</summary>
    /// <exception cref="ReplicationException">The source still cannot be watched.</exception>
    public void RestartIfItFailed()
    {
        if (_feed.IsWatching)
        {
            return;
        }

        _feed.EnsureWatching();
        _alarms.Clear(AlarmKey);
    }

    /// <summary>Replaces the watcher by a fresh one, which reports the restart as lost events (and so queues a rescan).</summary>
    public void Restart(EventLossCause cause, string detail) => _feed.Restart(cause, detail);

    public void Dispose() => _feed.Dispose();

    /// <summary>Runs on the watcher's event thread, which must never see an exception (it would stop the watcher).</summary>
    private void OnChanged(ChangeHint hint)
    {
        var file = new FileInfo(Path.Join(_direction.SourcePath, hint.Path));
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
                ReplicatorLog.ChangeEventsOverflowed(_logger, _direction.SourcePath, loss.Detail);
                break;
            case EventLossCause.WatcherError:
                ReplicatorLog.ChangeFeedFailed(_logger, _direction.SourcePath, loss.Detail);
                break;
            default:
                ReplicatorLog.Rewatched(_logger, _direction.SourcePath, loss.Detail);
                break;
        }

        if (!loss.WatchingAgain)
        {
            _alarms.Raise(ReplicaSide.Source, AlarmKey,
                $"not watching {_direction.SourcePath} for changes since {loss.Detail}: {loss.RestartFailure}; only reconcile scans replicate until it can be watched again");
        }

        // The whole tree, queued like any change: being caught up then includes this rescan.
        _pending.Add(new ChangeHint("", ScanSubtree: true), 0, _time.GetUtcNow());
    }
}
