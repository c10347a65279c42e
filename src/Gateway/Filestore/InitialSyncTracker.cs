namespace Gateway.Filestore;

/// <summary>
/// Counts the initial sync down: the paths the first reconcile planned, each ticked off once it has been replicated
/// (by a worker, whether from the plan or from a change event that got there first).
/// </summary>
internal sealed class InitialSyncTracker(TimeProvider time)
{
    private readonly Lock _gate = new();
    private Dictionary<string, long>? _remaining;
    private int _filesTotal;
    private int _filesDone;
    private long _bytesTotal;
    private long _bytesDone;
    private DateTimeOffset? _startedAt;
    private DateTimeOffset? _completedAt;

    public bool Completed
    {
        get
        {
            lock (_gate)
            {
                return _completedAt is not null;
            }
        }
    }

    /// <returns>True when there is nothing to copy, and so the initial sync is already complete.</returns>
    public bool Begin(IReadOnlyList<PlannedChange> plan)
    {
        lock (_gate)
        {
            _remaining = plan.ToDictionary(change => change.Hint.Path, change => change.Bytes, StringComparer.Ordinal);
            _filesTotal = _remaining.Count;
            _bytesTotal = _remaining.Values.Sum();
            _startedAt = time.GetUtcNow();
            return CompleteWhenNothingRemains();
        }
    }

    /// <returns>True when this was the last path of the initial sync.</returns>
    public bool Replicated(string path)
    {
        lock (_gate)
        {
            if (_remaining is null || _completedAt is not null || !_remaining.Remove(path, out var bytes))
            {
                return false;
            }

            _filesDone++;
            _bytesDone += bytes;
            return CompleteWhenNothingRemains();
        }
    }

    public InitialSyncProgress Progress()
    {
        lock (_gate)
        {
            if (_startedAt is not { } started)
            {
                return InitialSyncProgress.NotStarted;
            }

            var elapsed = ((_completedAt ?? time.GetUtcNow()) - started).TotalSeconds;
            double? rate = elapsed > 0 ? _bytesDone / elapsed : null;
            TimeSpan? eta = _completedAt is not null ? TimeSpan.Zero
                : rate is > 0 ? TimeSpan.FromSeconds((_bytesTotal - _bytesDone) / rate.Value)
                : null;
            return new InitialSyncProgress(_filesTotal, _filesDone, _bytesTotal, _bytesDone, rate, eta, started, _completedAt);
        }
    }

    private bool CompleteWhenNothingRemains()
    {
        if (_remaining!.Count > 0)
        {
            return false;
        }

        _completedAt = time.GetUtcNow();
        return true;
    }
}
