namespace Gateway.Database.Observation;

/// <summary>
/// The snapshots an observer publishes, as a completion signal: a waiter is woken by each new one instead of looking
/// again on a timer of its own.
/// </summary>
public sealed class SnapshotFeed<T>(TimeProvider time) where T : class
{
    private TaskCompletionSource<T> _next = NewWaiter();

    public void Publish(T snapshot) => Interlocked.Exchange(ref _next, NewWaiter()).TrySetResult(snapshot);

    /// <summary>Completes with the next snapshot published after this call.</summary>
    public Task<T> NextAsync(CancellationToken cancellation) => Volatile.Read(ref _next).Task.WaitAsync(cancellation);

    /// <summary>
    /// The first snapshot published after this call that <paramref name="until"/> accepts (it is shown each one in
    /// order, so it may keep state, such as "the second in a row"), or null once <paramref name="timeout"/> has passed.
    /// </summary>
    public async Task<T?> WaitForAsync(Func<T, bool> until, TimeSpan timeout, CancellationToken cancellation)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellation);
        try
        {
            var next = NextAsync(either.Token);
            while (true)
            {
                var snapshot = await next;
                // Waiting for the one after before looking at this one: none published meanwhile is missed.
                next = NextAsync(either.Token);
                if (until(snapshot))
                {
                    return snapshot;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            return null;
        }
    }

    private static TaskCompletionSource<T> NewWaiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
