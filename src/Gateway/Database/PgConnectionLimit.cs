namespace Gateway.Database;

/// <summary>
/// Client connections of one PG endpoint at most, counted from accept (a client waiting in its startup or held for a
/// primary occupies a slot too, or a flood of silent connections would get around the limit).
/// </summary>
public sealed class PgConnectionLimit(int max)
{
    private int _open;

    public int Open => Volatile.Read(ref _open);

    /// <summary>A slot to dispose when the connection ends, or null when the endpoint is full.</summary>
    public IDisposable? TryEnter()
    {
        if (Interlocked.Increment(ref _open) <= max)
        {
            return new Slot(this);
        }

        Interlocked.Decrement(ref _open);
        return null;
    }

    private sealed class Slot(PgConnectionLimit owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._open);
            }
        }
    }
}
