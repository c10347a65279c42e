using System.Text.Json;
using Gateway.Coordinator.Supervision;
using Gateway.Model;

namespace Gateway.Coordinator.Pausing;

/// <summary>Where the pause of automatic failover is kept: a local file (one gateway) or etcd (cluster mode, Gateway.Cluster).</summary>
public interface IPauseStore
{
    /// <summary>The pause in force, or null when none is. A record that cannot be read is an error, never "not paused".</summary>
    PauseStatus? Load();

    /// <summary>
    /// Saves <paramref name="next"/> (null: resumed), decided from <paramref name="previous"/>; throws when it is not
    /// saved (a store shared by several gateways refuses it from a gateway that does not lead, or from a stale decision).
    /// </summary>
    void Save(PauseStatus? previous, PauseStatus? next);
}

/// <summary>pause.json under the state directory, replaced with fsync + rename; absent while not paused.</summary>
public sealed class PauseFile(string stateDirectory) : IPauseStore
{
    public const string FileName = "pause.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly string _path = Path.Combine(stateDirectory, FileName);

    public PauseStatus? Load()
    {
        if (!File.Exists(_path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<PauseStatus>(File.ReadAllText(_path), Json) ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            // Unreadable must not mean "not paused": an operator said hands off.
            throw new InvalidDataException($"pause file '{_path}' is unreadable ({e.Message}); fix or remove it by hand (removing it resumes automatic failover)", e);
        }
    }

    public void Save(PauseStatus? previous, PauseStatus? next)
    {
        if (next is null)
        {
            File.Delete(_path);
        }
        else
        {
            DurableFile.Replace(_path, stream => JsonSerializer.Serialize(stream, next, Json));
        }
    }
}
