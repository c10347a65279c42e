using System.Text.Json;
using Gateway.Coordinator.Supervision;
using Gateway.Model;

namespace Gateway.Coordinator.Pausing;

/// <summary>
/// "Hands off, I am patching site A": while paused, no automatic promotion, site failover or rejoin happens (an
/// operator's own switches still do). Kept in pause.json under the state directory (fsync + rename) so a restart
/// keeps it; it does not end by itself when its planned end passes (the operator may still be at work): it is then
/// overdue, with an alarm, until someone resumes.
/// </summary>
public sealed class AutomaticFailoverPause
{
    public const string FileName = "pause.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly Lock _gate = new();
    private readonly string _path;
    private volatile PauseStatus? _current;

    public AutomaticFailoverPause(string stateDirectory)
    {
        _path = Path.Combine(stateDirectory, FileName);
        _current = Load(_path);
    }

    public PauseStatus? Current => _current;

    /// <summary>Pauses; null when done, or the reason it was not (already paused).</summary>
    public string? Pause(string reason, string by, TimeSpan duration, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_current is { } paused)
            {
                return $"automatic failover is already paused ({paused.Reason}, by {paused.By}, until {paused.Until:u}); resume it first";
            }

            var pause = new PauseStatus(reason, by, now, now + duration);
            DurableFile.Replace(_path, stream => JsonSerializer.Serialize(stream, pause, Json));
            _current = pause;
            return null;
        }
    }

    /// <summary>Resumes; the pause that ended, or null when none was in force.</summary>
    public PauseStatus? Resume()
    {
        lock (_gate)
        {
            if (_current is not { } paused)
            {
                return null;
            }

            File.Delete(_path);
            _current = null;
            return paused;
        }
    }

    private static PauseStatus? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<PauseStatus>(File.ReadAllText(path), Json) ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e)
        {
            // Unreadable must not mean "not paused": an operator said hands off.
            throw new InvalidDataException($"pause file '{path}' is unreadable ({e.Message}); fix or remove it by hand (removing it resumes automatic failover)", e);
        }
    }
}
