using System.Globalization;

namespace Gateway.Backup;

/// <summary>A backup as retention sees it: when its cut was made and which backup its database part builds on (incremental and differential pgBackRest backups).</summary>
public sealed record RetentionCandidate(string Id, DateTimeOffset Time, string? DependsOn = null);

public sealed record KeptBackup(string Id, IReadOnlyList<string> Reasons);

public sealed record RetentionDecision(IReadOnlyList<KeptBackup> Keep, IReadOnlyList<string> Remove)
{
    public string Describe() =>
        $"keep {Keep.Count} ({string.Join(", ", Keep.Select(k => $"{k.Id}: {string.Join(", ", k.Reasons)}"))}); remove {Remove.Count}{(Remove.Count == 0 ? "" : ": " + string.Join(", ", Remove))}";
}

/// <summary>
/// Which backups to keep, by restic's own rules so that an operator who knows <c>restic forget --keep-*</c> knows
/// these: walking the backups newest first, each rule with a count left keeps a backup whose bucket (itself, its
/// UTC day, its ISO week) differs from the last one that rule kept. A backup is kept when any rule keeps it, and a
/// kept backup keeps what its database part builds on. Decided once, carried out by id in both engines, so a
/// database backup never outlives its files or the other way round.
/// </summary>
public sealed record RetentionPolicy(int KeepLast, int KeepDaily, int KeepWeekly)
{
    /// <summary>A policy that keeps nothing, or a negative count: the problem, naming the values; null when usable.</summary>
    public string? Problem()
    {
        if (KeepLast < 0 || KeepDaily < 0 || KeepWeekly < 0)
        {
            return $"counts must be 0 or more (KeepLast {KeepLast}, KeepDaily {KeepDaily}, KeepWeekly {KeepWeekly})";
        }

        return KeepLast == 0 && KeepDaily == 0 && KeepWeekly == 0
            ? "KeepLast 0, KeepDaily 0 and KeepWeekly 0 keep nothing: every backup would be deleted; keep at least one"
            : null;
    }

    public override string ToString() => $"last {KeepLast}, daily {KeepDaily}, weekly {KeepWeekly}";

    public RetentionDecision Decide(IEnumerable<RetentionCandidate> backups)
    {
        if (Problem() is { } problem)
        {
            throw new ArgumentException(problem);
        }

        var newestFirst = backups.OrderByDescending(b => b.Time).ThenByDescending(b => b.Id, StringComparer.Ordinal).ToList();
        var rules = new List<Rule>
        {
            new("last", KeepLast, (_, index) => index),
            new("daily", KeepDaily, (time, _) => DayOf(time)),
            new("weekly", KeepWeekly, (time, _) => WeekOf(time)),
        };
        var reasons = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var index = 0; index < newestFirst.Count; index++)
        {
            var backup = newestFirst[index];
            foreach (var rule in rules.Where(rule => rule.Left > 0))
            {
                var bucket = rule.Bucket(backup.Time, index);
                if (bucket != rule.LastBucket)
                {
                    rule.LastBucket = bucket;
                    rule.Left--;
                    Reasons(backup.Id).Add(rule.Name);
                }
            }
        }

        // What a kept backup builds on stays with it, transitively.
        var byId = newestFirst.ToDictionary(b => b.Id, StringComparer.Ordinal);
        foreach (var kept in reasons.Keys.ToList())
        {
            for (var parent = byId[kept].DependsOn; parent is not null && byId.TryGetValue(parent, out var basis); parent = basis.DependsOn)
            {
                var why = $"base of {kept}";
                if (!Reasons(parent).Contains(why))
                {
                    Reasons(parent).Add(why);
                }
            }
        }

        return new RetentionDecision(
            newestFirst.Where(b => reasons.ContainsKey(b.Id)).Select(b => new KeptBackup(b.Id, reasons[b.Id])).ToList(),
            newestFirst.Where(b => !reasons.ContainsKey(b.Id)).Select(b => b.Id).ToList());

        List<string> Reasons(string id) => reasons.TryGetValue(id, out var list) ? list : reasons[id] = [];
    }

    private static long DayOf(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return utc.Year * 10_000L + utc.Month * 100 + utc.Day;
    }

    private static long WeekOf(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return ISOWeek.GetYear(utc) * 100L + ISOWeek.GetWeekOfYear(utc);
    }

    private sealed class Rule(string name, int count, Func<DateTimeOffset, int, long> bucket)
    {
        public string Name { get; } = name;
        public Func<DateTimeOffset, int, long> Bucket { get; } = bucket;
        public int Left { get; set; } = count;
        public long LastBucket { get; set; } = long.MinValue;
    }
}
