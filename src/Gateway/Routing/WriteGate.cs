namespace Gateway.Routing;

public enum WriteAdmission
{
    Proceed,

    /// <summary>The gate stayed closed longer than the hold bound, or too many writes were waiting already.</summary>
    Refused,
}

/// <summary>
/// Holds write requests while the active site changes, so a planned switchover fails none of them: new writes wait
/// (bounded in number and time) while the gate is closed, in-flight writes are counted so the switch can wait for
/// them to finish, and opening the gate releases the held writes to the new active site.
/// </summary>
public sealed class WriteGate(int maxHeld, TimeSpan maxHold, TimeProvider time)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource? _closed;

    // Closed for a second, independent reason: cluster mode's lease fence (a switch's Open must not reopen it).
    private TaskCompletionSource? _fenced;

    // Completed by the write that brings the in-flight count to zero, for a DrainAsync waiting on it.
    private TaskCompletionSource? _drained;
    private int _held;
    private int _inFlight;

    public bool IsClosed => Volatile.Read(ref _closed) is not null || IsFenced;

    /// <summary>Closed by <see cref="Fence"/>: this gateway's cluster session can no longer be trusted.</summary>
    public bool IsFenced => Volatile.Read(ref _fenced) is not null;

    public int Held => Volatile.Read(ref _held);

    public int InFlight => Volatile.Read(ref _inFlight);

    public async ValueTask<WriteAdmission> AdmitAsync(CancellationToken cancellation)
    {
        var closed = Volatile.Read(ref _closed) ?? Volatile.Read(ref _fenced);
        if (closed is null)
        {
            Interlocked.Increment(ref _inFlight);
            return WriteAdmission.Proceed;
        }

        return await HoldAsync(closed, cancellation);
    }

    private async ValueTask<WriteAdmission> HoldAsync(TaskCompletionSource closed, CancellationToken cancellation)
    {

        if (Interlocked.Increment(ref _held) > maxHeld)
        {
            Interlocked.Decrement(ref _held);
            return WriteAdmission.Refused;
        }

        try
        {
            var giveUpAt = time.GetTimestamp() + (long)(maxHold.TotalSeconds * time.TimestampFrequency);
            // Opened for one reason may still leave it closed for the other: wait again, within the same bound.
            for (var waiting = closed; waiting is not null; waiting = Volatile.Read(ref _closed) ?? Volatile.Read(ref _fenced))
            {
                var left = TimeSpan.FromSeconds((double)(giveUpAt - time.GetTimestamp()) / time.TimestampFrequency);
                await waiting.Task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, time, cancellation);
            }

            Interlocked.Increment(ref _inFlight);
            return WriteAdmission.Proceed;
        }
        catch (TimeoutException)
        {
            return WriteAdmission.Refused;
        }
        finally
        {
            Interlocked.Decrement(ref _held);
        }
    }

    /// <summary>Marks the end of an admitted write.</summary>
    public void Completed()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            Volatile.Read(ref _drained)?.TrySetResult();
        }
    }

    public void Close() => Shut(ref _closed);

    public void Open() => Release(ref _closed);

    /// <summary>Holds writes for cluster mode's lease fence, independently of a switch's <see cref="Close"/> and <see cref="Open"/>.</summary>
    public void Fence() => Shut(ref _fenced);

    /// <summary>Ends the lease fence; writes still wait if a switch has the gate closed.</summary>
    public void Unfence() => Release(ref _fenced);

    private void Shut(ref TaskCompletionSource? reason)
    {
        lock (_lock)
        {
            reason ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private void Release(ref TaskCompletionSource? reason)
    {
        TaskCompletionSource? closed;
        lock (_lock)
        {
            closed = reason;
            reason = null;
        }

        closed?.TrySetResult();
    }

    /// <summary>Waits until no admitted write is in flight; false if some still are at the deadline.</summary>
    public async Task<bool> DrainAsync(TimeSpan limit, CancellationToken cancellation)
    {
        var drained = DrainedSignal();
        // Read after the signal is published: either the last write's Completed sees the signal, or this sees zero.
        if (InFlight == 0)
        {
            return true;
        }

        try
        {
            // No waiting for a limit below zero (WaitAsync would read -1 ms as "for ever").
            await drained.Task.WaitAsync(limit < TimeSpan.Zero ? TimeSpan.Zero : limit, time, cancellation);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>The signal the write that brings the in-flight count to zero completes; a fresh one once that happened.</summary>
    private TaskCompletionSource DrainedSignal()
    {
        lock (_lock)
        {
            if (_drained is { Task.IsCompleted: false } waiting)
            {
                return waiting;
            }

            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // A full fence, as Completed's decrement is, between this write and the caller's read of the count.
            Interlocked.Exchange(ref _drained, fresh);
            return fresh;
        }
    }
}
