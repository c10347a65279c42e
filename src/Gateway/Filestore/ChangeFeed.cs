namespace Gateway.Filestore;

internal enum EventLossCause
{
    /// <summary>inotify's queue overflowed (more changes at once than fs.inotify.max_queued_events).</summary>
    QueueOverflow,

    /// <summary>The watcher reported an error (a watch could not be added, the directory went away...).</summary>
    WatcherError,

    /// <summary>
    /// A directory was renamed: .NET's recursive watcher can lose track of a subdirectory created in it just before
    /// (measured: about one time in five when the rename follows the creation within milliseconds), after which no
    /// event from that subdirectory ever arrives.
    /// </summary>
    DirectoryRenamed,

    /// <summary>
    /// A scheduled reconcile found differences that no event had reported: the watcher may have stopped reporting
    /// (seen with .NET's watcher under heavy directory churn, without any error).
    /// </summary>
    ReconcileFoundDifferences,
}

/// <summary>Change events may have been lost; the watcher was replaced by a fresh one before this was said, unless that failed.</summary>
internal sealed record ChangeEventsLost(EventLossCause Cause, string Detail, string? RestartFailure)
{
    public bool WatchingAgain => RestartFailure is null;
}

/// <summary>
/// Change events of the source tree (inotify through <see cref="FileSystemWatcher"/>, recursive), turned into hints.
/// Events are only ever hints: inotify drops them when its queue overflows, a directory's first entries can land
/// before its watch is added, and the recursive watcher can lose a subdirectory when directories are renamed. Each
/// time events may have been lost, the watcher is replaced by a fresh one first (it watches every directory there is
/// now) and only then is the replicator told, so that the rescan it starts overlaps with watching and nothing falls
/// in between.
/// </summary>
internal sealed class ChangeFeed : IDisposable
{
    private readonly Lock _gate = new();
    private readonly string _root;
    private readonly ReplicaScope _scope;
    private readonly Action<ChangeHint> _changed;
    private readonly Action<ChangeEventsLost> _eventsLost;
    private FileSystemWatcher? _watcher;
    private bool _disposed;

    /// <summary>Not watching yet: <see cref="EnsureWatching"/> starts it.</summary>
    /// <param name="eventsLost">Told that events may have been lost, and whether watching has resumed (if not, <see cref="EnsureWatching"/> retries).</param>
    public ChangeFeed(string root, ReplicaScope scope, Action<ChangeHint> changed, Action<ChangeEventsLost> eventsLost)
    {
        _root = root;
        _scope = scope;
        _changed = changed;
        _eventsLost = eventsLost;
    }

    public bool IsWatching
    {
        get
        {
            lock (_gate)
            {
                return _watcher is not null;
            }
        }
    }

    /// <summary>Starts watching unless it is: a change made after this returns is reported (or its loss is).</summary>
    /// <exception cref="ReplicationException">The source cannot be watched (it is not there, or not readable).</exception>
    public void EnsureWatching()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _watcher ??= Watch();
            }
        }
    }

    /// <summary>Replaces the watcher by a fresh one, as when events are known to be lost.</summary>
    public void Restart(EventLossCause cause, string detail)
    {
        FileSystemWatcher? current;
        lock (_gate)
        {
            current = _watcher;
        }

        if (current is not null)
        {
            Rewatch(current, cause, detail);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _watcher?.Dispose();
            _watcher = null;
        }
    }

    private void Rewatch(FileSystemWatcher lost, EventLossCause cause, string detail)
    {
        string? restartFailure = null;
        lock (_gate)
        {
            if (_disposed || lost != _watcher)
            {
                return;
            }

            // Disposed here, on its own event thread, so the runtime does not restart it as well: one watcher, started by us, before the rescan.
            lost.Dispose();
            _watcher = null;
            try
            {
                _watcher = Watch();
            }
            catch (Exception e)
            {
                // Whatever it is: thrown from here, the runtime's event loop would swallow it, and nothing would be watched, silently.
                restartFailure = e.Message;
            }
        }

        _eventsLost(new ChangeEventsLost(cause, detail, restartFailure));
    }

    private FileSystemWatcher Watch()
    {
        FileSystemWatcher? watcher = null;
        try
        {
            watcher = new FileSystemWatcher(_root)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            var self = watcher;
            watcher.Created += (_, e) => Report(new ChangeHint(Relative(e.FullPath), ContentChanged: true, ScanSubtree: true));
            watcher.Changed += (_, e) => Report(new ChangeHint(Relative(e.FullPath), ContentChanged: true));
            watcher.Deleted += (_, e) => Report(new ChangeHint(Relative(e.FullPath)));
            watcher.Renamed += (_, e) => OnRenamed(self, e);
            watcher.Error += (_, e) => Rewatch(
                self, e.GetException() is InternalBufferOverflowException ? EventLossCause.QueueOverflow : EventLossCause.WatcherError, e.GetException().Message);
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            watcher?.Dispose();
            throw new ReplicationException(ReplicaSide.Source, $"cannot watch {_root} for changes: {e.Message}", e);
        }
    }

    private void OnRenamed(FileSystemWatcher watcher, RenamedEventArgs e)
    {
        var (from, to) = (Relative(e.OldFullPath), Relative(e.FullPath));
        if (!_scope.Includes(to))
        {
            Report(new ChangeHint(from));
        }
        else if (!_scope.Includes(from))
        {
            // Renamed out of its in-progress temp name: never replicated under the old one, so it is new here.
            Report(new ChangeHint(to, ContentChanged: true, ScanSubtree: true));
        }
        else
        {
            // One hint for the new name that also names the old one: a separate hint for the old name could reach
            // another worker first and delete the target's copy that the rename was about to reuse.
            Report(new ChangeHint(to, ScanSubtree: true, RenamedFrom: from));
        }

        // A directory, or something already gone again (which may have been one): only a renamed regular file
        // cannot have taken watched subdirectories along.
        if (!File.Exists(e.FullPath))
        {
            Rewatch(watcher, EventLossCause.DirectoryRenamed, $"{from} renamed to {to}, not a regular file (a directory, or gone again)");
        }
    }

    private void Report(ChangeHint hint)
    {
        if (_scope.Includes(hint.Path))
        {
            _changed(hint);
        }
    }

    private string Relative(string fullPath) => Path.GetRelativePath(_root, fullPath);
}
