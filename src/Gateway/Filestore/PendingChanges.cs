using System.Threading.Channels;

namespace Gateway.Filestore;

/// <summary>A queued hint with when its first unreplicated change was seen and the bytes it stands for.</summary>
internal sealed record PendingChange(ChangeHint Hint, DateTimeOffset FirstSeen, long Bytes)
{
    public string Path => Hint.Path;
}

/// <summary>The backlog at one moment.</summary>
internal sealed record Backlog(int Files, long Bytes, DateTimeOffset? OldestChange);

/// <summary>
/// The replication backlog: one entry per path, however many events name it, handed out in arrival order to the
/// workers. A path is never handed to two workers at once: a change arriving while its path is being replicated
/// waits until that replication is over, then goes again (the first copy may have read the file before the change).
/// </summary>
internal sealed class PendingChanges
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PendingChange> _queued = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingChange> _inFlight = new(StringComparer.Ordinal);

    // One token per queued path that is not in flight; a path in flight gets its token back when it completes.
    private readonly Channel<string> _ready = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private TaskCompletionSource? _drained;

    public void Add(ChangeHint hint, long bytes, DateTimeOffset firstSeen)
    {
        lock (_gate)
        {
            AddLocked(hint, bytes, firstSeen);
        }
    }

    /// <summary>Queues every change of a plan, each first seen at <paramref name="firstSeen"/>.</summary>
    public void Add(IReadOnlyList<PlannedChange> plan, DateTimeOffset firstSeen)
    {
        foreach (var change in plan)
        {
            Add(change.Hint, change.Bytes, firstSeen);
        }
    }

    private void AddLocked(ChangeHint hint, long bytes, DateTimeOffset firstSeen)
    {
        if (_queued.TryGetValue(hint.Path, out var queued))
        {
            _queued[hint.Path] = new PendingChange(queued.Hint.MergedWith(hint), Earliest(queued.FirstSeen, firstSeen), bytes);
            if (queued.Hint.RenamedFrom is { } earlierOrigin && hint.RenamedFrom is { } laterOrigin && earlierOrigin != laterOrigin)
            {
                // Two renames onto one name: the merged hint remembers the later origin; the earlier one still needs a look.
                AddLocked(new ChangeHint(earlierOrigin), 0, firstSeen);
            }

            return;
        }

        _queued[hint.Path] = new PendingChange(hint, firstSeen, bytes);
        if (!_inFlight.ContainsKey(hint.Path))
        {
            _ready.Writer.TryWrite(hint.Path);
        }
    }

    /// <summary>The next path to replicate; the caller owns it until <see cref="Complete"/>.</summary>
    public async ValueTask<PendingChange> TakeAsync(CancellationToken cancellation)
    {
        while (true)
        {
            var path = await _ready.Reader.ReadAsync(cancellation);
            lock (_gate)
            {
                if (_queued.Remove(path, out var change))
                {
                    _inFlight[path] = change;
                    return change;
                }
            }
        }
    }

    public void Complete(PendingChange change)
    {
        lock (_gate)
        {
            _inFlight.Remove(change.Path);
            if (_queued.ContainsKey(change.Path))
            {
                _ready.Writer.TryWrite(change.Path);
            }
            else if (_queued.Count == 0 && _inFlight.Count == 0)
            {
                _drained?.TrySetResult();
                _drained = null;
            }
        }
    }

    /// <summary>Completes once nothing is queued or in flight.</summary>
    public Task WhenDrainedAsync(CancellationToken cancellation)
    {
        lock (_gate)
        {
            if (_queued.Count == 0 && _inFlight.Count == 0)
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task.WaitAsync(cancellation);
        }
    }

    public Backlog Measure()
    {
        lock (_gate)
        {
            var files = 0;
            long bytes = 0;
            DateTimeOffset? oldest = null;
            foreach (var change in _inFlight.Values.Concat(_queued.Values.Where(c => !_inFlight.ContainsKey(c.Path))))
            {
                files++;
                bytes += change.Bytes;
                oldest = oldest is { } o ? Earliest(o, change.FirstSeen) : change.FirstSeen;
            }

            return new Backlog(files, bytes, oldest);
        }
    }

    /// <summary>Whether the path is queued or being replicated.</summary>
    public bool Has(string path)
    {
        lock (_gate)
        {
            return _queued.ContainsKey(path) || _inFlight.ContainsKey(path);
        }
    }

    /// <summary>Every path queued or being replicated, sorted.</summary>
    public IReadOnlyList<string> Paths()
    {
        lock (_gate)
        {
            return _queued.Keys.Union(_inFlight.Keys).Order(StringComparer.Ordinal).ToList();
        }
    }

    private static DateTimeOffset Earliest(DateTimeOffset a, DateTimeOffset b) => a <= b ? a : b;
}
