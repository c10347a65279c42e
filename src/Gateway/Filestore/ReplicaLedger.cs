using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Model;

namespace Gateway.Filestore;

/// <summary>
/// Every entry both SANs were seen to hold alike (kind, size, modification time, link target): the replicator's only
/// evidence that an entry on one side was once on the other. A target-only entry is deleted only when it still
/// matches what the ledger says both sides held, so the source had it and removed it; anything else on the target
/// only (written there while that site was active, or changed since) is copied back, never deleted.
/// The fact is symmetric, so one ledger serves a pair of SANs in both directions.
/// Losing entries is safe (a delete becomes a copy back); a stale entry matters only if a later entry at that path
/// has the same kind, size and modification time to the tick.
/// </summary>
public sealed class ReplicaLedger : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    // Per path the latest version the target was given (or seen holding alike) and the one before: a copy records its
    // version before it lands, and if it never lands the target still holds the previous one, which came from the source too.
    private readonly ConcurrentDictionary<string, Versions> _agreed = new(StringComparer.Ordinal);
    private readonly string? _snapshotPath;
    private readonly string? _journalPath;
    private readonly Lock _journalGate = new();
    private StreamWriter? _journal;
    private HashSet<string> _absentAtLastReconcile = [];

    private ReplicaLedger(string? snapshotPath)
    {
        _snapshotPath = snapshotPath;
        _journalPath = snapshotPath is null ? null : snapshotPath + ".journal";
    }

    /// <summary>A ledger kept only in memory (tests of other parts); everything is forgotten with the process.</summary>
    public static ReplicaLedger InMemory() => new(null);

    /// <summary>
    /// The ledger of the SAN pair under <paramref name="directory"/>: the last snapshot plus the journal written
    /// since. A file that cannot be parsed is an error, never silently treated as empty (an empty ledger is safe, but
    /// the operator should learn the file was damaged).
    /// </summary>
    public static ReplicaLedger Open(string directory, string pairName)
    {
        Directory.CreateDirectory(directory);
        var ledger = new ReplicaLedger(Path.Combine(directory, pairName + ".ledger"));
        ledger.Load();
        return ledger;
    }

    public int Count => _agreed.Count;

    /// <summary>The latest version the ledger knows came from the source at <paramref name="path"/>, or null.</summary>
    public ReplicaEntry? Agreed(string path) => _agreed.GetValueOrDefault(path)?.Latest;

    /// <summary>True when <paramref name="entry"/> is exactly a version of <paramref name="path"/> that came from the source.</summary>
    public bool Matches(string path, ReplicaEntry entry) => _agreed.TryGetValue(path, out var versions) && versions.Match(entry);

    /// <summary>The target holds, or is about to hold, <paramref name="entry"/> at <paramref name="path"/> as a copy of the source's (or both hold it alike).</summary>
    public void Record(string path, ReplicaEntry entry)
    {
        var kept = Normalise(entry);
        var recorded = true;
        _agreed.AddOrUpdate(path, _ => new Versions(kept, null), (_, versions) =>
        {
            recorded = !Alike(versions.Latest, kept);
            return recorded ? new Versions(kept, versions.Latest) : versions;
        });
        if (recorded)
        {
            Append(new Line(path, Added: true, kept.Kind, kept.Size, kept.ModifiedUtc.Ticks, kept.LinkTarget));
        }
    }

    /// <summary>
    /// The target's copy was renamed from <paramref name="from"/> to <paramref name="to"/> as the source's was: what
    /// the ledger knew of it (and of everything under it, for a directory) holds under the new name too, unless a
    /// worker already recorded something fresher there. The old name keeps its record: a copy still under way may put
    /// the same file back there, and a record that no longer matches anything costs nothing.
    /// </summary>
    public void Move(string from, string to)
    {
        var prefix = from + "/";
        foreach (var (path, versions) in _agreed.Where(pair => pair.Key == from || pair.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            var moved = to + path[from.Length..];
            if (_agreed.TryAdd(moved, versions))
            {
                foreach (var entry in versions.Oldest())
                {
                    Append(new Line(moved, Added: true, entry.Kind, entry.Size, entry.ModifiedUtc.Ticks, entry.LinkTarget));
                }
            }
        }
    }

    /// <summary>
    /// The target's <paramref name="deleted"/> version of the path was removed (a propagated delete): that version is
    /// forgotten; another one the ledger knows stays, since a copy of it may still be on its way there.
    /// </summary>
    public void Forget(string path, ReplicaEntry deleted)
    {
        var removed = false;
        while (_agreed.TryGetValue(path, out var versions) && versions.Match(deleted))
        {
            var rest = versions.Without(deleted);
            if (rest is null ? _agreed.TryRemove(new KeyValuePair<string, Versions>(path, versions)) : _agreed.TryUpdate(path, rest, versions))
            {
                removed = true;
                break;
            }
        }

        if (removed)
        {
            Append(new Line(path, Added: false, deleted.Kind, deleted.Size, deleted.ModifiedUtc.Ticks, deleted.LinkTarget));
        }
    }

    /// <summary>
    /// After a scan of both sides: records every pair seen alike, forgets paths neither side held in this scan nor in
    /// the one before (once is not enough: a copy under way when the scan ran lands after it, already recorded), then
    /// writes a fresh snapshot and starts an empty journal (so the journal never grows past one reconcile interval).
    /// </summary>
    public void Reconcile(DirectorySnapshot source, DirectorySnapshot target)
    {
        foreach (var (path, entry) in source.Entries)
        {
            if (target.Entries.TryGetValue(path, out var twin) && SnapshotComparison.Difference(entry, twin) is null)
            {
                var kept = Normalise(twin);
                _agreed.AddOrUpdate(path, _ => new Versions(kept, null), (_, versions) => Alike(versions.Latest, kept) ? versions : new Versions(kept, versions.Latest));
            }
        }

        var absent = _agreed.Keys.Where(path => !source.Entries.ContainsKey(path) && !target.Entries.ContainsKey(path)).ToHashSet(StringComparer.Ordinal);
        foreach (var path in absent.Where(_absentAtLastReconcile.Contains))
        {
            _agreed.TryRemove(path, out _);
        }

        _absentAtLastReconcile = absent;
        WriteSnapshot();
    }

    /// <summary>Makes what was recorded so far durable (fsync of the journal); the replicator calls it after each flushed group.</summary>
    public void Flush()
    {
        lock (_journalGate)
        {
            if (_journal is { } journal)
            {
                journal.Flush();
                ((FileStream)journal.BaseStream).Flush(flushToDisk: true);
            }
        }
    }

    public void Dispose()
    {
        lock (_journalGate)
        {
            if (_journal is { } journal)
            {
                journal.Flush();
                ((FileStream)journal.BaseStream).Flush(flushToDisk: true);
                journal.Dispose();
                _journal = null;
            }
        }
    }

    /// <summary>Directories agree by kind, symlinks by target, files by size and modification time (what the replicator preserves).</summary>
    public static bool Alike(ReplicaEntry a, ReplicaEntry b) => a.Kind == b.Kind && a.Kind switch
    {
        EntryKind.Directory => true,
        EntryKind.Symlink => a.LinkTarget == b.LinkTarget,
        _ => a.Size == b.Size && a.ModifiedUtc == b.ModifiedUtc,
    };

    private static ReplicaEntry Normalise(ReplicaEntry entry) => entry.Sha256 is null ? entry : entry with { Sha256 = null };

    private void Append(Line line)
    {
        if (_journalPath is null)
        {
            return;
        }

        lock (_journalGate)
        {
            _journal ??= new StreamWriter(new FileStream(_journalPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
            _journal.WriteLine(JsonSerializer.Serialize(line, Json));
        }
    }

    private void WriteSnapshot()
    {
        if (_snapshotPath is null)
        {
            return;
        }

        lock (_journalGate)
        {
            DurableFile.Replace(_snapshotPath, stream =>
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true);
                foreach (var (path, versions) in _agreed)
                {
                    foreach (var entry in versions.Oldest())
                    {
                        writer.WriteLine(JsonSerializer.Serialize(new Line(path, true, entry.Kind, entry.Size, entry.ModifiedUtc.Ticks, entry.LinkTarget), Json));
                    }
                }
            });

            // The snapshot holds everything the journal said; replaying an old journal over it later would only re-add
            // or forget entries, both safe (see the class summary).
            _journal?.Dispose();
            _journal = null;
            File.WriteAllBytes(_journalPath!, []);
        }
    }

    private void Load()
    {
        foreach (var file in new[] { _snapshotPath!, _journalPath! })
        {
            if (!File.Exists(file))
            {
                continue;
            }

            var number = 0;
            foreach (var text in File.ReadLines(file))
            {
                number++;
                if (text.Length == 0)
                {
                    continue;
                }

                Line line;
                try
                {
                    line = JsonSerializer.Deserialize<Line>(text, Json) ?? throw new JsonException("null line");
                }
                catch (JsonException e) when (file == _journalPath)
                {
                    // A crash can cut the journal's last line short: everything before it counts, the torn line does not.
                    _ = e;
                    break;
                }
                catch (JsonException e)
                {
                    throw new InvalidDataException($"filestore ledger '{file}' line {number} is unreadable ({e.Message}); move it away to start from an empty ledger (deletes are then copied back until the next reconcile)", e);
                }

                var entry = new ReplicaEntry(line.Kind, line.Size, new DateTime(line.Ticks, DateTimeKind.Utc), line.LinkTarget);
                var known = _agreed.TryGetValue(line.Path, out var versions);
                if (line.Added)
                {
                    _agreed[line.Path] = known && !Alike(versions!.Latest, entry) ? new Versions(entry, versions.Latest) : new Versions(entry, null);
                }
                else if (known && versions!.Without(entry) is { } rest)
                {
                    _agreed[line.Path] = rest;
                }
                else
                {
                    _agreed.TryRemove(line.Path, out _);
                }
            }
        }
    }

    private sealed record Versions(ReplicaEntry Latest, ReplicaEntry? Previous)
    {
        public bool Match(ReplicaEntry entry) => Alike(Latest, entry) || (Previous is { } previous && Alike(previous, entry));

        /// <summary>The versions left once <paramref name="entry"/>'s is gone, or null when none is.</summary>
        public Versions? Without(ReplicaEntry entry) =>
            Alike(Latest, entry) ? (Previous is { } previous && !Alike(previous, entry) ? new Versions(previous, null) : null)
            : Previous is { } older && Alike(older, entry) ? new Versions(Latest, null)
            : this;

        /// <summary>Oldest first, as lines are replayed.</summary>
        public IEnumerable<ReplicaEntry> Oldest() => Previous is { } previous ? [previous, Latest] : [Latest];
    }

    private sealed record Line(
        [property: JsonPropertyName("p")] string Path,
        [property: JsonPropertyName("a")] bool Added,
        [property: JsonPropertyName("k")] EntryKind Kind,
        [property: JsonPropertyName("s")] long Size,
        [property: JsonPropertyName("t")] long Ticks,
        [property: JsonPropertyName("l")] string? LinkTarget);
}
