namespace Gateway.Filestore;

/// <summary>
/// The initial sync of one replicator: planned by the first reconcile, counted down as the workers replicate its
/// paths (<see cref="InitialSyncTracker"/>), and logged when planned, every progress interval, and when complete.
/// </summary>
internal sealed class InitialSync(ReplicationDirection direction, PendingChanges pending, TimeProvider time, ILogger logger)
{
    private readonly InitialSyncTracker _tracker = new(time);
    private readonly TaskCompletionSource _planned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the plan is queued.</summary>
    public Task Planned => _planned.Task;

    public bool Completed => _tracker.Completed;

    public InitialSyncProgress Progress() => _tracker.Progress();

    /// <summary>Counts <paramref name="plan"/> as the initial sync and queues it.</summary>
    public void Begin(IReadOnlyList<PlannedChange> plan, DateTimeOffset firstSeen)
    {
        ReplicatorLog.InitialSyncPlanned(logger, direction.ToString(), plan.Count, plan.Sum(change => change.Bytes));
        // Begun before the plan is queued, so no worker can finish a path the tracker does not know yet.
        if (_tracker.Begin(plan))
        {
            LogCompleted();
        }

        pending.Add(plan, firstSeen);
        // Only now: whoever waits to be caught up must find the plan queued, not the empty queue before it.
        _planned.TrySetResult();
    }

    /// <summary>A worker settled <paramref name="path"/>: ticked off if the initial sync was waiting for it.</summary>
    public void Replicated(string path)
    {
        if (_tracker.Replicated(path))
        {
            LogCompleted();
        }
    }

    /// <summary>Logs the progress every <paramref name="interval"/> until the initial sync is complete.</summary>
    public async Task LogProgressAsync(TimeSpan interval, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stopping) && !_tracker.Completed)
        {
            if (_tracker.Progress() is { StartedAt: not null } progress)
            {
                ReplicatorLog.InitialSyncProgress(logger, direction.ToString(), progress.FilesDone, progress.FilesTotal, progress.BytesDone, progress.BytesTotal,
                    (progress.BytesPerSecond ?? 0) / 1e6, progress.EstimatedRemaining?.ToString(@"hh\:mm\:ss") ?? "unknown");
            }
        }
    }

    private void LogCompleted()
    {
        var progress = _tracker.Progress();
        ReplicatorLog.InitialSyncCompleted(logger, direction.ToString(), progress.FilesTotal, progress.BytesTotal,
            (progress.CompletedAt - progress.StartedAt) ?? TimeSpan.Zero, (progress.BytesPerSecond ?? 0) / 1e6);
    }
}
