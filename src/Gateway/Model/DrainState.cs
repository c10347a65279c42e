using System.Text.Json;

namespace Gateway.Model;

/// <summary>
/// The drained sites and instances, read on every proxied request (one volatile reference) and kept in drain.json
/// under the state directory: every change is on disk (<see cref="DurableFile.Replace"/>) before routing sees it, so
/// a drain survives a gateway restart and an acknowledged drain is never undone by a crash.
/// </summary>
public sealed class DrainState
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly Lock _gate = new();
    private readonly string _path;
    private volatile DrainSet _current;

    private DrainState(string path, DrainSet initial)
    {
        _path = path;
        _current = initial;
    }

    public const string FileName = "drain.json";

    public DrainSet Current => _current;

    /// <summary>The saved drains, or none on a first start. A file that cannot be read stops the start, never silently routes to everything.</summary>
    public static DrainState Load(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, FileName);
        if (!File.Exists(path))
        {
            return new DrainState(path, DrainSet.Empty);
        }

        try
        {
            var saved = JsonSerializer.Deserialize<SavedDrains>(File.ReadAllText(path), Json) ?? throw new InvalidDataException("the file is empty");
            return new DrainState(path, new DrainSet([.. saved.Sites], [.. saved.Instances]));
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"drain state file '{path}' is unreadable ({e.Message}); fix it or remove it (which undrains everything)", e);
        }
    }

    /// <summary>Applies a decision on the current set under a lock, saving a changed set before it takes effect.</summary>
    public DrainVerdict Change(Func<DrainSet, DrainVerdict> decide)
    {
        lock (_gate)
        {
            var outcome = decide(_current);
            if (outcome.Changed)
            {
                DurableFile.Replace(_path, stream => JsonSerializer.Serialize(stream, new SavedDrains(outcome.Next.Sites, outcome.Next.Instances), Json));
                _current = outcome.Next;
            }

            return outcome;
        }
    }

    private sealed record SavedDrains(IReadOnlyList<string> Sites, IReadOnlyList<string> Instances);
}
