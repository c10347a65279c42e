using Polly;
using Polly.Retry;

namespace Gateway.Filestore;

/// <summary>
/// The workers that take queued paths one at a time and hand each to the <see cref="PathReplicator"/>. A file system
/// failure is retried with backoff until it succeeds or replication stops, an alarm in the status meanwhile; a path
/// settled is ticked off the initial sync.
/// </summary>
internal sealed class ReplicationWorkers
{
    private static readonly ResiliencePropertyKey<string> PathKey = new("filestore.path");

    private readonly ReplicationDirection _direction;
    private readonly int _count;
    private readonly PathReplicator _paths;
    private readonly PendingChanges _pending;
    private readonly ReplicationAlarms _alarms;
    private readonly InitialSync _initialSync;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _retry;

    public ReplicationWorkers(
        ReplicationDirection direction, ReplicationOptions options, PathReplicator paths, PendingChanges pending, ReplicationAlarms alarms, InitialSync initialSync, TimeProvider time, ILogger logger)
    {
        _direction = direction;
        // MaxParallelCopies of them copy bytes at a time (on the writer's copy threads); the others have written theirs and
        // wait for their group to be flushed and renamed into place, or do the cheap rest (directories, deletes).
        _count = options.MaxParallelCopies + ReplicaWriter.MaxCopiesAwaitingFlush;
        _paths = paths;
        _pending = pending;
        _alarms = alarms;
        _initialSync = initialSync;
        _logger = logger;
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

    /// <summary>Runs the workers until <paramref name="stopping"/> is cancelled.</summary>
    public Task RunAsync(CancellationToken stopping) =>
        Task.WhenAll(Enumerable.Range(0, _count).Select(_ => Task.Run(() => ReplicateChangesAsync(stopping), stopping)));

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
                ReplicatorLog.ReplicationFailedUnexpectedly(_logger, change.Path, _direction.ToString(), bug);
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
                static (context, state) => state.Paths.ReplicateAsync(state.Change, context.CancellationToken), context, (Paths: _paths, Change: change));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        if (_alarms.Clear(change.Path))
        {
            ReplicatorLog.ReplicationRecovered(_logger, change.Path, _direction.ToString());
        }

        if (settled)
        {
            _initialSync.Replicated(change.Path);
        }
    }

    private void OnReplicationFailing(string path, Exception error, int attempt, TimeSpan retryIn)
    {
        _alarms.Raise(error is ReplicationException { Side: var side } ? side : ReplicaSide.Target, path, error.Message);
        // Every retry is in the status; the log gets the first failure and then one line per ten attempts.
        if (attempt % 10 == 0)
        {
            ReplicatorLog.ReplicationFailing(_logger, path, _direction.ToString(), attempt + 1, error.Message, retryIn);
        }
    }
}
