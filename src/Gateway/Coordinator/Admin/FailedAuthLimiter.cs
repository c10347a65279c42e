namespace Gateway.Coordinator.Admin;

/// <summary>What the limiter says about an address before its token is even looked at.</summary>
public readonly record struct LockoutCheck(bool LockedOut, TimeSpan RetryAfter, bool FirstRefusal)
{
    public static readonly LockoutCheck Allowed = new(false, TimeSpan.Zero, false);
}

/// <summary>
/// Brute-force brake for the admin token: per remote address, <c>maxFailures</c> wrong or missing tokens within a
/// window (starting at the address's first failure) lock the address out until the window ends. A locked-out
/// address is refused whatever it presents, so guessing gets no answer at all, right or wrong; the price is that a
/// script with a wrong token on the operator's own host locks the operator out for the rest of the window too.
/// Tracks at most <see cref="MaxTrackedAddresses"/> addresses; beyond that, new ones share one entry, so a flood
/// from many addresses is limited as a whole rather than growing memory.
/// </summary>
public sealed class FailedAuthLimiter(int maxFailures, TimeSpan window, TimeProvider time)
{
    public const int MaxTrackedAddresses = 10_000;
    private const string Overflow = "(untracked addresses)";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public LockoutCheck Check(string address)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var key = KeyOf(address);
            if (!_entries.TryGetValue(key, out var entry) || Expired(entry, now))
            {
                return LockoutCheck.Allowed;
            }

            if (entry.Failures < maxFailures)
            {
                return LockoutCheck.Allowed;
            }

            var first = !entry.LockoutReported;
            _entries[key] = entry with { LockoutReported = true };
            return new LockoutCheck(true, entry.WindowStart + window - now, first);
        }
    }

    /// <summary>Counts a wrong or missing token; true when this one locks the address out.</summary>
    public bool RecordFailure(string address)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (!_entries.ContainsKey(address))
            {
                Prune(now);
            }

            var key = KeyOf(address);
            var entry = _entries.TryGetValue(key, out var existing) && !Expired(existing, now)
                ? existing with { Failures = existing.Failures + 1 }
                : new Entry(now, 1, LockoutReported: false);
            _entries[key] = entry;
            return entry.Failures == maxFailures;
        }
    }

    private string KeyOf(string address) =>
        _entries.ContainsKey(address) || _entries.Count < MaxTrackedAddresses ? address : Overflow;

    private bool Expired(Entry entry, DateTimeOffset now) => now >= entry.WindowStart + window;

    /// <summary>Forgets addresses whose window has passed, before a new one is added.</summary>
    private void Prune(DateTimeOffset now)
    {
        if (_entries.Count < 1024)
        {
            return;
        }

        foreach (var (address, _) in _entries.Where(pair => Expired(pair.Value, now)).ToList())
        {
            _entries.Remove(address);
        }
    }

    private sealed record Entry(DateTimeOffset WindowStart, int Failures, bool LockoutReported);
}
