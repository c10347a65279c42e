using System.Collections.Concurrent;

namespace Gateway.Filestore;

/// <summary>
/// What is failing right now, per side and per path, summed up in one line for the status. A failure is never only
/// logged: it stays here until the same path succeeds.
/// </summary>
internal sealed class ReplicationAlarms
{
    private readonly ConcurrentDictionary<(ReplicaSide Side, string Key), (string Message, long Sequence)> _failing = new();
    private long _sequence;

    public bool IsRaised => !_failing.IsEmpty;

    public void Raise(ReplicaSide side, string key, string message) =>
        _failing[(side, key)] = (message, Interlocked.Increment(ref _sequence));

    /// <summary>The key succeeded: whatever failed for it on either side is over.</summary>
    /// <returns>True when something had failed for it.</returns>
    public bool Clear(string key) =>
        _failing.TryRemove((ReplicaSide.Source, key), out _) | _failing.TryRemove((ReplicaSide.Target, key), out _);

    /// <summary>One sentence per failing side, or null when all is well.</summary>
    public string? Describe(ReplicationDirection direction)
    {
        var sentences = _failing
            .GroupBy(pair => pair.Key.Side)
            .OrderBy(group => group.Key)
            .Select(group =>
            {
                var latest = group.MaxBy(pair => pair.Value.Sequence).Value.Message;
                var where = group.Key == ReplicaSide.Source ? direction.SourcePath : direction.TargetPath;
                return $"{group.Key.ToString().ToLowerInvariant()} {where} failing for {group.Count()} item(s); latest: {latest}";
            })
            .ToList();
        return sentences.Count == 0 ? null : string.Join(" | ", sentences) + " (retrying with backoff)";
    }
}
