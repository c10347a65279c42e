namespace Gateway.Cluster;

/// <summary>
/// Instants for lease arithmetic: wall-clock time at start plus the monotonic time elapsed since, so a step of the
/// system clock (NTP, an operator) can neither lengthen nor shorten a lease as this gateway counts it.
/// </summary>
public sealed class ClusterClock(TimeProvider time)
{
    private readonly DateTimeOffset _start = time.GetUtcNow();
    private readonly long _startTimestamp = time.GetTimestamp();

    public TimeProvider Time { get; } = time;

    public DateTimeOffset Now() => _start + Time.GetElapsedTime(_startTimestamp);
}
