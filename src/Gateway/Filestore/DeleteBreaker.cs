using Gateway.Model;

namespace Gateway.Filestore;

/// <summary>
/// The mass-delete circuit breaker (rsync's --max-delete, kept open until an operator looks): at most
/// MaxDeletesPerMinute deletes propagate in any minute; the next one opens the breaker, and from then on every
/// delete is held (listed, never done) until <see cref="Release"/>. A source that lost its files (an unmounted or
/// wiped SAN seen as "everything was deleted") so costs at most one minute's worth. The open state is kept in a
/// marker file, so a restart does not let another minute's worth through.
/// </summary>
public sealed class DeleteBreaker(int maxPerMinute, TimeProvider time, string? markerPath)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Lock _gate = new();
    private readonly Queue<DateTimeOffset> _recent = new();
    private readonly SortedSet<string> _held = new(StringComparer.Ordinal);

    // Released by an operator: deleted when next looked at, without counting against the limit.
    private readonly HashSet<string> _released = new(StringComparer.Ordinal);
    private DateTimeOffset? _openedAt = markerPath is not null && File.Exists(markerPath) ? File.GetLastWriteTimeUtc(markerPath) : null;

    public bool IsOpen
    {
        get
        {
            lock (_gate)
            {
                return _openedAt is not null;
            }
        }
    }

    /// <summary>The breaker's state for the status: open since when, how many deletes wait, the first few of them.</summary>
    public HeldDeletes? Describe()
    {
        lock (_gate)
        {
            return _openedAt is { } since ? new HeldDeletes(since, _held.Count, _held.Take(10).ToList(), maxPerMinute) : null;
        }
    }

    /// <summary>True when this delete may go ahead now; false when it is held (the breaker is, or just became, open).</summary>
    public bool TryDelete(string path)
    {
        if (maxPerMinute == 0)
        {
            return true;
        }

        lock (_gate)
        {
            if (_released.Remove(path))
            {
                return true;
            }

            var now = time.GetUtcNow();
            while (_recent.TryPeek(out var oldest) && now - oldest >= Window)
            {
                _recent.Dequeue();
            }

            if (_openedAt is null && _recent.Count < maxPerMinute)
            {
                _recent.Enqueue(now);
                return true;
            }

            if (_openedAt is null)
            {
                _openedAt = now;
                WriteMarker();
            }

            _held.Add(path);
            return false;
        }
    }

    /// <summary>
    /// Closes the breaker and hands back every held path, to be looked at again and deleted if the source still lacks
    /// it (an operator looked: these do not count against the limit).
    /// </summary>
    public IReadOnlyList<string> Release()
    {
        lock (_gate)
        {
            var held = _held.ToList();
            _released.UnionWith(held);
            _held.Clear();
            _recent.Clear();
            _openedAt = null;
            if (markerPath is not null)
            {
                File.Delete(markerPath);
            }

            return held;
        }
    }

    private void WriteMarker()
    {
        if (markerPath is not null)
        {
            DurableFile.Replace(markerPath, stream => stream.Write("open\n"u8));
        }
    }
}

/// <summary>Deletes the breaker holds back: since when, how many, the first few paths, and the limit that tripped it.</summary>
public sealed record HeldDeletes(DateTimeOffset Since, int Count, IReadOnlyList<string> FirstPaths, int MaxPerMinute);
