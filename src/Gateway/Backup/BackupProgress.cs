namespace Gateway.Backup;

/// <summary>What a running backup (or restore) is doing, for the admin API and gatewayctl's progress line.</summary>
public sealed record ProgressSnapshot(
    string Operation,
    string Id,
    string Step,
    DateTimeOffset StartedAt,
    long? BytesDone,
    long? BytesTotal,
    double? Percent,
    double? BytesPerSecond,
    TimeSpan? Eta);

/// <summary>The live progress of one operation, updated by the engines' output parsers and read by any thread.</summary>
public sealed class BackupProgress(string operation, string id, TimeProvider time)
{
    private readonly Lock _lock = new();
    private string _step = "starting";
    private DateTimeOffset _stepStartedAt = time.GetUtcNow();
    private long? _bytesDone;
    private long? _bytesTotal;
    private double? _percent;
    private TimeSpan? _eta;

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public void Step(string step)
    {
        lock (_lock)
        {
            (_step, _stepStartedAt, _bytesDone, _bytesTotal, _percent, _eta) = (step, time.GetUtcNow(), null, null, null, null);
        }
    }

    /// <summary>Bytes of the current step: done, and the total when the engine knows it; the ETA from the engine or from the rate so far.</summary>
    public void Bytes(long done, long? total, double? percent = null, TimeSpan? eta = null)
    {
        lock (_lock)
        {
            (_bytesDone, _bytesTotal, _percent, _eta) = (done, total, percent ?? (total > 0 ? 100.0 * done / total : null), eta);
        }
    }

    public ProgressSnapshot Snapshot()
    {
        lock (_lock)
        {
            var elapsed = (time.GetUtcNow() - _stepStartedAt).TotalSeconds;
            double? rate = _bytesDone is { } done && elapsed > 0.5 ? done / elapsed : null;
            var eta = _eta ?? (_percent is > 0 and < 100 && elapsed > 0.5 ? TimeSpan.FromSeconds(elapsed * (100 - _percent.Value) / _percent.Value) : null);
            return new ProgressSnapshot(operation, id, _step, StartedAt, _bytesDone, _bytesTotal, _percent is { } p ? Math.Round(p, 2) : null,
                rate is { } r ? Math.Round(r) : null, eta);
        }
    }
}
