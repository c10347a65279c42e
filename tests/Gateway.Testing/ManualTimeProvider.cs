namespace Gateway.Testing;

/// <summary>
/// A clock that moves only when a test says so. Timers (Task.Delay, PeriodicTimer, CancellationTokenSource with a
/// delay, Polly's waits) fire during <see cref="Advance"/>, in due order, each with the clock set to its due time;
/// a timer due at once fires on the thread pool, as a real one would.
/// </summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = start;

    public ManualTimeProvider()
        : this(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    /// <summary>When the timers now waiting fall due: a test can wait until the code under test has armed the one it means to fire.</summary>
    public IReadOnlyList<DateTimeOffset> DueTimes
    {
        get
        {
            lock (_gate)
            {
                return _timers.Select(t => t.DueAt).Order().ToList();
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock forward, firing every timer that falls due on the way.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        DateTimeOffset end;
        lock (_gate)
        {
            end = _now + by;
        }

        while (NextDueBy(end) is { } timer)
        {
            timer.Fire();
        }
    }

    private ManualTimer? NextDueBy(DateTimeOffset end)
    {
        lock (_gate)
        {
            var next = _timers.Where(t => t.DueAt <= end).MinBy(t => t.DueAt);
            if (next is null)
            {
                _now = end;
                return null;
            }

            _now = next.DueAt > _now ? next.DueAt : _now;
            _timers.Remove(next);
            if (next.Period > TimeSpan.Zero)
            {
                next.DueAt = _now + next.Period;
                _timers.Add(next);
            }

            return next;
        }
    }

    private sealed class ManualTimer(ManualTimeProvider clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset DueAt { get; set; }

        public TimeSpan Period { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    return true;
                }

                DueAt = clock._now + dueTime;
                if (dueTime > TimeSpan.Zero)
                {
                    clock._timers.Add(this);
                    return true;
                }

                if (Period > TimeSpan.Zero)
                {
                    DueAt = clock._now + Period;
                    clock._timers.Add(this);
                }
            }

            ThreadPool.QueueUserWorkItem(_ => Fire());
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
