using Gateway.Backup;

namespace Gateway.Tests.Backup;

public sealed class BackupScheduleTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    [Theory]
    [InlineData("daily 02:30", "daily 02:30")]
    [InlineData("  Daily 2:05 ", "daily 02:05")]
    [InlineData("every 6h", "every 06:00:00")]
    [InlineData("every 90m", "every 01:30:00")]
    [InlineData("every 1d", "every 1.00:00:00")]
    public void Schedules_parse(string text, string parsed)
    {
        Assert.Null(BackupSchedule.TryParse(text, out var schedule));
        Assert.Equal(parsed, schedule!.ToString());
    }

    [Fact]
    public void An_empty_schedule_means_backups_on_request_only()
    {
        Assert.Null(BackupSchedule.TryParse("", out var schedule));
        Assert.Null(schedule);
    }

    [Theory]
    [InlineData("dialy 02:30", "'dialy 02:30' does not parse: use \"daily HH:MM\" (local time) or \"every N\" with a unit m, h or d (\"every 6h\"); empty: no schedule")]
    [InlineData("daily 25:00", "'daily 25:00': '25:00' is not a time of day (00:00 to 23:59)")]
    [InlineData("every 0m", "'every 0m': the interval must be at least 1 minute")]
    [InlineData("every 6 hours", "'every 6 hours' does not parse: use \"daily HH:MM\" (local time) or \"every N\" with a unit m, h or d (\"every 6h\"); empty: no schedule")]
    [InlineData("06:00:00", "'06:00:00' does not parse: use \"daily HH:MM\" (local time) or \"every N\" with a unit m, h or d (\"every 6h\"); empty: no schedule")]
    public void A_schedule_that_does_not_parse_is_refused_naming_it(string text, string problem)
    {
        Assert.Equal(problem, BackupSchedule.TryParse(text, out var schedule));
        Assert.Null(schedule);
    }

    [Fact]
    public void Daily_runs_next_at_the_local_time_after_the_previous_run()
    {
        BackupSchedule.TryParse("daily 02:30", out var daily);
        var previous = new DateTimeOffset(2026, 1, 10, 2, 30, 0, TimeSpan.FromHours(1));

        Assert.Equal(new DateTimeOffset(2026, 1, 11, 2, 30, 0, TimeSpan.FromHours(1)), daily!.NextAfter(previous, Berlin));
        Assert.Equal(new DateTimeOffset(2026, 1, 10, 2, 30, 0, TimeSpan.FromHours(1)), daily.NextAfter(previous.AddMinutes(-1), Berlin));
    }

    [Fact]
    public void Daily_at_a_time_the_clock_skips_runs_an_hour_later_that_day()
    {
        // 29 March 2026: Berlin's clocks go from 02:00 to 03:00.
        BackupSchedule.TryParse("daily 02:30", out var daily);

        var next = daily!.NextAfter(new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.FromHours(1)), Berlin);

        Assert.Equal(new DateTimeOffset(2026, 3, 29, 3, 30, 0, TimeSpan.FromHours(2)), next);
    }

    [Fact]
    public void A_run_missed_while_the_gateway_was_down_is_due_at_once_and_an_interval_counts_from_the_last_start()
    {
        BackupSchedule.TryParse("every 6h", out var every);
        var now = new DateTimeOffset(2026, 1, 10, 12, 0, 0, TimeSpan.Zero);

        var (due, sentence) = ScheduleDecision.Next(every!, now.AddHours(-7), now, TimeZoneInfo.Utc);
        Assert.Equal(now, due);
        Assert.StartsWith("every 06:00:00: due now", sentence);

        var (later, _) = ScheduleDecision.Next(every!, now.AddHours(-1), now, TimeZoneInfo.Utc);
        Assert.Equal(now.AddHours(5), later);

        var (first, firstSentence) = ScheduleDecision.Next(every!, null, now, TimeZoneInfo.Utc);
        Assert.Equal(now.AddHours(6), first);
        Assert.EndsWith("(none yet)", firstSentence);
    }
}
