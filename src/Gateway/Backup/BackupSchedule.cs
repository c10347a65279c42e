using System.Globalization;
using System.Text.RegularExpressions;

namespace Gateway.Backup;

/// <summary>When scheduled backups run: once a day at a local time, or at a fixed interval. Pure: parsing and "when next".</summary>
public abstract partial record BackupSchedule
{
    private BackupSchedule()
    {
    }

    /// <summary>Every day at <paramref name="At"/>, in the gateway host's local time.</summary>
    public sealed record Daily(TimeOnly At) : BackupSchedule
    {
        public override string ToString() => $"daily {At:HH\\:mm}";
    }

    /// <summary>Every <paramref name="Interval"/>, counted from the start of the last backup.</summary>
    public sealed record Every(TimeSpan Interval) : BackupSchedule
    {
        public override string ToString() => $"every {Interval}";
    }

    public static readonly TimeSpan ShortestInterval = TimeSpan.FromMinutes(1);

    private const string Grammar = "use \"daily HH:MM\" (local time) or \"every N\" with a unit m, h or d (\"every 6h\"); empty: no schedule";

    /// <summary>Parses a schedule; null for an empty text (backups only on request). Returns the problem, naming the text, or null.</summary>
    public static string? TryParse(string text, out BackupSchedule? schedule)
    {
        schedule = null;
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            return null;
        }

        if (DailyPattern().Match(trimmed) is { Success: true } daily)
        {
            if (TimeOnly.TryParseExact(daily.Groups[1].Value, ["H:mm", "HH:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
            {
                schedule = new Daily(at);
                return null;
            }

            return $"'{text}': '{daily.Groups[1].Value}' is not a time of day (00:00 to 23:59)";
        }

        if (EveryPattern().Match(trimmed) is { Success: true } every
            && long.TryParse(every.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count <= 100_000)
        {
            var interval = every.Groups[2].Value switch
            {
                "m" => TimeSpan.FromMinutes(count),
                "h" => TimeSpan.FromHours(count),
                _ => TimeSpan.FromDays(count),
            };
            if (interval < ShortestInterval)
            {
                return $"'{text}': the interval must be at least {ShortestInterval.TotalMinutes:0} minute";
            }

            schedule = new Every(interval);
            return null;
        }

        return $"'{text}' does not parse: {Grammar}";
    }

    /// <summary>The first scheduled moment strictly after <paramref name="previous"/>.</summary>
    public DateTimeOffset NextAfter(DateTimeOffset previous, TimeZoneInfo zone) => this switch
    {
        Every every => previous + every.Interval,
        Daily daily => NextDaily(daily.At, previous, zone),
        _ => throw new InvalidOperationException("unknown schedule"),
    };

    private static DateTimeOffset NextDaily(TimeOnly at, DateTimeOffset previous, TimeZoneInfo zone)
    {
        var localDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(previous, zone).DateTime);
        for (var day = localDay.AddDays(-1); ; day = day.AddDays(1))
        {
            var local = day.ToDateTime(at);
            // A time the clock skips (the spring-forward hour) runs an hour later; a repeated one runs at its first instance.
            if (zone.IsInvalidTime(local))
            {
                local = local.AddHours(1);
            }

            var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
            var candidate = new DateTimeOffset(local, offset);
            if (candidate > previous)
            {
                return candidate;
            }
        }
    }

    [GeneratedRegex(@"^daily\s+(\S+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DailyPattern();

    [GeneratedRegex(@"^every\s+(\d+)\s*(m|h|d)$", RegexOptions.CultureInvariant)]
    private static partial Regex EveryPattern();
}
