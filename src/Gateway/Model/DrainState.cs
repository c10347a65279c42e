using System.Text.Json;

namespace Gateway.Model;

/// <summary>Where the drains are kept: drain.json under the state directory (one gateway) or etcd (cluster mode).</summary>
public interface IDrainStore
{
    /// <summary>The saved drains, or null when none were ever saved.</summary>
    DrainSet? Load();

    /// <summary>Saves <paramref name="next"/>, decided from <paramref name="previous"/>; throws when it is not saved.</summary>
    void Save(DrainSet previous, DrainSet next);
}

/// <summary>
/// The drained sites and instances, read on every proxied request (one volatile reference) and kept in a
/// <see cref="IDrainStore"/>: every change is saved before routing sees it, so a drain survives a gateway restart and
/// an acknowledged drain is never undone by a crash.
/// </summary>
public sealed class DrainState(IDrainStore store, DrainSet initial)
{
    private readonly Lock _gate = new();
    private volatile DrainSet _current = initial;

    public const string FileName = DrainFile.FileName;

    public DrainSet Current => _current;

    /// <summary>The saved drains, or none on a first start. A file that cannot be read stops the start, never silently routes to everything.</summary>
    public static DrainState Load(string stateDirectory) => Load(new DrainFile(Path.Combine(stateDirectory, FileName)));

    public static DrainState Load(IDrainStore store) => new(store, store.Load() ?? DrainSet.Empty);

    /// <summary>Applies a decision on the current set under a lock, saving a changed set before it takes effect.</summary>
    public DrainVerdict Change(Func<DrainSet, DrainVerdict> decide)
    {
        lock (_gate)
        {
            var outcome = decide(_current);
            if (outcome.Changed)
            {
                store.Save(_current, outcome.Next);
                _current = outcome.Next;
            }

            return outcome;
        }
    }

    /// <summary>Takes drains another gateway saved (cluster mode: read from the shared store), without saving them again.</summary>
    public void Adopt(DrainSet saved)
    {
        lock (_gate)
        {
            _current = saved;
        }
    }
}

/// <summary>The drains in drain.json, replaced with <see cref="DurableFile.Replace"/>.</summary>
public sealed class DrainFile(string path) : IDrainStore
{
    public const string FileName = "drain.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public DrainSet? Load()
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return (JsonSerializer.Deserialize<SavedDrains>(File.ReadAllText(path), Json) ?? throw new InvalidDataException("the file is empty")).ToSet();
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"drain state file '{path}' is unreadable ({e.Message}); fix it or remove it (which undrains everything)", e);
        }
    }

    public void Save(DrainSet previous, DrainSet next) =>
        DurableFile.Replace(path, stream => JsonSerializer.Serialize(stream, SavedDrains.Of(next), Json));
}

/// <summary>A <see cref="DrainSet"/> as saved: its sites and instances as lists.</summary>
public sealed record SavedDrains(IReadOnlyList<string> Sites, IReadOnlyList<string> Instances)
{
    public static SavedDrains Of(DrainSet drains) => new(drains.Sites, drains.Instances);

    public DrainSet ToSet() => new([.. Sites], [.. Instances]);
}
