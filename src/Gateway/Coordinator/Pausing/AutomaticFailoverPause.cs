using Gateway.Coordinator.Supervision;

namespace Gateway.Coordinator.Pausing;

/// <summary>
/// "Hands off, I am patching site A": while paused, no automatic promotion, site failover or rejoin happens (an
/// operator's own switches still do). Kept in an <see cref="IPauseStore"/> (pause.json alone, etcd in cluster mode, so
/// a new leader honours it) so a restart keeps it; it does not end by itself when its planned end passes (the
/// operator may still be at work): it is then overdue, with an alarm, until someone resumes.
/// </summary>
public sealed class AutomaticFailoverPause
{
    private readonly Lock _gate = new();
    private readonly IPauseStore _store;
    private volatile PauseStatus? _current;

    public AutomaticFailoverPause(IPauseStore store)
    {
        _store = store;
        _current = store.Load();
    }

    public PauseStatus? Current => _current;

    /// <summary>Pauses; null when done, or the reason it was not (already paused). Throws when the store refuses to save it.</summary>
    public string? Pause(string reason, string by, TimeSpan duration, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_current is { } paused)
            {
                return $"automatic failover is already paused ({paused.Reason}, by {paused.By}, until {paused.Until:u}); resume it first";
            }

            var pause = new PauseStatus(reason, by, now, now + duration);
            _store.Save(null, pause);
            _current = pause;
            return null;
        }
    }

    /// <summary>Resumes; the pause that ended, or null when none was in force. Throws when the store refuses to save it.</summary>
    public PauseStatus? Resume()
    {
        lock (_gate)
        {
            if (_current is not { } paused)
            {
                return null;
            }

            _store.Save(paused, null);
            _current = null;
            return paused;
        }
    }

    /// <summary>Takes the pause another gateway (the cluster's leader) saved in the shared store: null when it resumed.</summary>
    public void Adopt(PauseStatus? saved)
    {
        lock (_gate)
        {
            _current = saved;
        }
    }
}
