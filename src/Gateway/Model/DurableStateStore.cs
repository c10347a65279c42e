using System.Text.Json;

namespace Gateway.Model;

/// <summary>
/// Where <see cref="DurableState"/> is kept: a local file (one gateway) or etcd (cluster mode, Gateway.Cluster).
/// <see cref="Save"/> returns only once the state is durable, and throws when it is not saved.
/// </summary>
public interface IDurableStateStore
{
    /// <summary>The saved state, or null when none was ever saved.</summary>
    DurableState? Load();

    /// <summary>
    /// Saves <paramref name="next"/>, decided from <paramref name="previous"/> (null: the first state). A store shared by
    /// several gateways refuses it when the saved state is no longer <paramref name="previous"/>.
    /// </summary>
    void Save(DurableState? previous, DurableState next);
}

/// <summary>
/// Keeps <see cref="DurableState"/> in state.json under the state directory, replaced with <see cref="DurableFile.Replace"/>:
/// after a crash the file is either the old state or the new one, never a torn mix, and a saved state survives power loss.
/// </summary>
public sealed class DurableStateStore : IDurableStateStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly Lock _gate = new();
    private readonly string _path;

    public DurableStateStore(string directory)
    {
        _path = Path.Combine(directory, "state.json");
        Directory.CreateDirectory(directory);
    }

    /// <summary>The saved state, or null on a first start. A file that cannot be read is an error, never silently replaced.</summary>
    public DurableState? Load()
    {
        if (!File.Exists(_path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<DurableState>(File.ReadAllText(_path), Json)
                ?? throw new InvalidDataException("the file is empty");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"gateway state file '{_path}' is unreadable ({e.Message}); fix or remove it by hand after checking which database node is primary", e);
        }
    }

    public void Save(DurableState? previous, DurableState state)
    {
        lock (_gate)
        {
            DurableFile.Replace(_path, stream => JsonSerializer.Serialize(stream, state, Json));
        }
    }
}
