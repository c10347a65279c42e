namespace Gateway.Coordinator.Audit;

public sealed partial class AuditLog
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Audit log {Path} cannot be written ({Error}); state-changing admin calls are refused until it can. Unwritten entry: {Entry}")]
        public static partial void AppendFailed(ILogger logger, string path, string error, string entry);

        [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Audit log {Path} still cannot be written ({Error}): refusing a state-changing admin call")]
        public static partial void StillBroken(ILogger logger, string path, string error);

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "More than {MaxPending} audit entries could not be written; the oldest one is dropped (it is in this log above)")]
        public static partial void EntryDropped(ILogger logger, int maxPending);
    }
}
