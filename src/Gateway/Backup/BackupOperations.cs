namespace Gateway.Backup;

/// <summary>Another backup, drill, restore or prune is running (the engines and the snapshot path take one at a time).</summary>
public sealed class BackupBusyException(string message) : Exception(message);

/// <summary>The request names something that is not there (an unknown backup id, site).</summary>
public sealed class BackupNotFoundException(string message) : Exception(message);

/// <summary>The request cannot be carried out as asked (a restore target that is not empty, a site that holds the primary): nothing was changed.</summary>
public sealed class BackupRefusedException(string message) : Exception(message);

/// <summary>One backup operation at a time, and what it is doing, for the API's progress.</summary>
public sealed class BackupOperations
{
    private readonly SemaphoreSlim _one = new(1, 1);
    private volatile BackupProgress? _current;

    public ProgressSnapshot? Current => _current?.Snapshot();

    /// <summary>Runs <paramref name="operation"/> alone, with its progress visible; refuses at once while another runs.</summary>
    public async Task<T> RunAloneAsync<T>(BackupProgress progress, Func<Task<T>> operation)
    {
        if (!_one.Wait(0))
        {
            var running = Current;
            throw new BackupBusyException(running is null
                ? "another backup operation is running"
                : $"{running.Operation} of {running.Id} is running (step: {running.Step}, since {running.StartedAt:HH:mm:ss} UTC)");
        }

        _current = progress;
        try
        {
            return await operation();
        }
        finally
        {
            _current = null;
            _one.Release();
        }
    }
}
