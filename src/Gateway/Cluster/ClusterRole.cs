namespace Gateway.Cluster;

/// <summary>
/// Whether this gateway acts (leads, with a trusted session and the current epoch read since it last got one): only
/// then do the leader-only services run. Changed by <see cref="ClusterRuntime"/>, waited on by <see cref="LeaderOnlyService"/>.
/// </summary>
public sealed class ClusterRole
{
    private volatile bool _acting;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource _term = Ended();

    public bool Acting => _acting;

    /// <summary>Cancelled when this gateway stops acting: an operation an operator started on the leader is abandoned with its leadership.</summary>
    public CancellationToken ActingToken => Volatile.Read(ref _term).Token;

    /// <summary>Completes at the next change.</summary>
    public Task ChangedAsync() => Volatile.Read(ref _changed).Task;

    public void Set(bool acting)
    {
        if (_acting == acting)
        {
            return;
        }

        _acting = acting;
        var ended = Interlocked.Exchange(ref _term, acting ? new CancellationTokenSource() : Ended());
        ended.Cancel();
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    private static CancellationTokenSource Ended()
    {
        var ended = new CancellationTokenSource();
        ended.Cancel();
        return ended;
    }
}
