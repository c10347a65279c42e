using System.Collections.Concurrent;

namespace Gateway.Coordinator;

public sealed record Alarm(string Key, string Message, DateTimeOffset RaisedAt);

/// <summary>
/// Conditions an operator must see until they are over (split brain, degraded synchronous replication, a refused
/// failover...). Raised and cleared by the component that detects them; listed in the admin status and metrics.
/// </summary>
public sealed partial class Alarms(TimeProvider time, ILogger<Alarms> logger)
{
    private readonly ConcurrentDictionary<string, Alarm> _active = new();

    public IReadOnlyList<Alarm> Active => _active.Values.OrderBy(a => a.RaisedAt).ToList();

    public void Raise(string key, string message)
    {
        var alarm = new Alarm(key, message, time.GetUtcNow());
        var changed = true;
        _active.AddOrUpdate(key, alarm, (_, existing) =>
        {
            changed = existing.Message != message;
            return changed ? alarm : existing;
        });
        if (changed)
        {
            Log.Raised(logger, key, message);
        }
    }

    public void Clear(string key)
    {
        if (_active.TryRemove(key, out var alarm))
        {
            Log.Cleared(logger, key, alarm.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "ALARM {Key}: {Message}")]
        public static partial void Raised(ILogger logger, string key, string message);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "alarm {Key} cleared (was: {Message})")]
        public static partial void Cleared(ILogger logger, string key, string message);
    }
}
