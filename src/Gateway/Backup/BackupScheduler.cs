namespace Gateway.Backup;

/// <summary>When the next scheduled backup is due, and why: pure.</summary>
public static class ScheduleDecision
{
    /// <summary>
    /// The next run after the last backup's start (any backup counts: one an operator just took resets the clock), or
    /// after <paramref name="now"/> with none yet. A run missed while the gateway was down is due at once.
    /// </summary>
    public static (DateTimeOffset Due, string Sentence) Next(BackupSchedule schedule, DateTimeOffset? lastStart, DateTimeOffset now, TimeZoneInfo zone)
    {
        var due = schedule.NextAfter(lastStart ?? now, zone);
        return due <= now
            ? (now, $"{schedule}: due now (last backup started {lastStart:u})")
            : (due, $"{schedule}: next backup at {due:u}{(lastStart is null ? " (none yet)" : $" (last started {lastStart:u})")}");
    }
}

/// <summary>Runs backups on Gateway:Backup:Schedule; every cycle logs the sentence of its decision.</summary>
public sealed partial class BackupScheduler(BackupOptions options, BackupCatalog catalog, BackupRunner runner, TimeProvider time, ILogger<BackupScheduler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        BackupSchedule.TryParse(options.Schedule, out var schedule);
        if (schedule is null)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var (due, sentence) = ScheduleDecision.Next(schedule, catalog.All.LastOrDefault()?.StartedAt, time.GetUtcNow(), time.LocalTimeZone);
            Log.Decided(logger, sentence);
            var wait = due - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait < TimeSpan.FromHours(1) ? wait : TimeSpan.FromHours(1), time, stoppingToken);
                continue;
            }

            try
            {
                await runner.CreateAsync("schedule", stoppingToken);
            }
            catch (BackupBusyException e)
            {
                Log.Busy(logger, e.Message);
                await Task.Delay(TimeSpan.FromMinutes(1), time, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failure the backup could not even record (its state directory unwritable): retried after a pause, never a tight loop.
                Log.Busy(logger, e.Message);
                await Task.Delay(TimeSpan.FromMinutes(1), time, stoppingToken);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Backup schedule: {Sentence}")]
        public static partial void Decided(ILogger logger, string sentence);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Backup schedule: not now: {Reason}")]
        public static partial void Busy(ILogger logger, string reason);
    }
}
