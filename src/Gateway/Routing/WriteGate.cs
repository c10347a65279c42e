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
    public void Completed() => Interlocked.Decrement(ref _inFlight);

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
        var giveUpAt = time.GetUtcNow() + limit;
        while (InFlight > 0)
        {
            if (time.GetUtcNow() >= giveUpAt)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), time, cancellation);
        }

        return true;
    }
}
