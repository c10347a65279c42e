using System.Collections.Concurrent;

namespace Gateway.Model;

public sealed record Alarm(string Key, string Message, DateTimeOffset RaisedAt);

/// <summary>
/// Conditions an operator must see until they are over (split brain, degraded synchronous replication, a refused
/// failover...). Raised and cleared by the component that detects them; listed in the admin status and as the
/// <c>gateway_alarm</c> gauge. Every key must be in <see cref="AlarmCatalogue"/>; components name their keys in
/// public constants ending in "Alarm" (or use the catalogue's), which a test checks against the catalogue.
/// </summary>
public sealed partial class Alarms(TimeProvider time, ILogger<Alarms> logger)
{
    private readonly ConcurrentDictionary<string, Alarm> _active = new();

    public IReadOnlyList<Alarm> Active => _active.Values.OrderBy(a => a.RaisedAt).ToList();

    /// <summary>Whether the alarm is raised now.</summary>
    public bool IsRaised(string key) => _active.ContainsKey(key);

    public void Raise(string key, string message)
    {
        AlarmCatalogue.Get(key);
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
        AlarmCatalogue.Get(key);
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
