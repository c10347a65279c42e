
namespace Gateway.Operations;

/// <summary>Thrown when an operation is asked for while another one runs; the message names the one running.</summary>
public sealed class OperationInProgressException(string message) : Exception(message);

/// <summary>An operation under way: what it is, since when, and its journal (for live progress in the admin status).</summary>
public sealed record RunningOperation(string Description, DateTimeOffset Since, StepJournal Journal);

/// <summary>
/// One operation that changes the primary, the active site or a node's role at a time (site switch, promotion,
/// rejoin, failback), whoever asks: an operator, the coordinator, or a restart resuming one. What runs inside an
/// operation (a switch's promotion, the rejoin after a switchover) runs under the holder's scope.
/// </summary>
public sealed class OperationGate(TimeProvider time)
{
    private readonly Lock _lock = new();
    private volatile RunningOperation? _current;

    public RunningOperation? Current => _current;

    /// <summary>Takes the gate for <paramref name="description"/>, or throws naming what holds it.</summary>
    public Scope Begin(string description, StepJournal journal)
    {
        lock (_lock)
        {
            if (_current is { } running)
            {
                throw new OperationInProgressException($"{running.Description} is running (since {running.Since:HH:mm:ss}); try again when it has ended");
            }

            _current = new RunningOperation(description, time.GetUtcNow(), journal);
            return new Scope(this);
        }
    }

    private void End()
    {
        lock (_lock)
        {
            _current = null;
        }
    }

    /// <summary>Releases the gate when disposed.</summary>
    public readonly struct Scope(OperationGate gate) : IDisposable
    {
        public void Dispose() => gate.End();
    }
}
