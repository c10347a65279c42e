namespace Gateway.Cluster;

/// <summary>
/// Whether this gateway acts (leads, with a trusted session and the current epoch read since it last got one): only
/// then do the leader-only services run. Changed by <see cref="ClusterRuntime"/>, waited on by <see cref="LeaderOnlyService"/>.
/// </summary>
public sealed class ClusterRole
{
    private volatile bool _acting;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Acting => _acting;

    /// <summary>Completes at the next change.</summary>
    public Task ChangedAsync() => Volatile.Read(ref _changed).Task;

    public void Set(bool acting)
    {
        if (_acting == acting)
        {
            return;
        }

        _acting = acting;
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
