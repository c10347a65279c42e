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

    // Completed by the write that brings the in-flight count to zero, for a DrainAsync waiting on it.
    private TaskCompletionSource? _drained;
    private int _held;
    private int _inFlight;

    public bool IsClosed => Volatile.Read(ref _closed) is not null;

    public int Held => Volatile.Read(ref _held);

    public int InFlight => Volatile.Read(ref _inFlight);

    public async ValueTask<WriteAdmission> AdmitAsync(CancellationToken cancellation)
    {
        var closed = Volatile.Read(ref _closed);
        if (closed is null)
        {
            Interlocked.Increment(ref _inFlight);
            return WriteAdmission.Proceed;
        }

        if (Interlocked.Increment(ref _held) > maxHeld)
        {
            Interlocked.Decrement(ref _held);
            return WriteAdmission.Refused;
        }

        try
        {
            await closed.Task.WaitAsync(maxHold, time, cancellation);
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

    public void Close()
    {
        lock (_lock)
        {
            _closed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Open()
    {
        TaskCompletionSource? closed;
        lock (_lock)
        {
            closed = _closed;
            _closed = null;
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
