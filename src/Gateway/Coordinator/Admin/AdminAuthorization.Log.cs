namespace Gateway.Coordinator.Admin;

public static partial class AdminAuthorization
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Admin {Method} {Path} from {Remote} refused: missing or wrong token")]
        public static partial void Unauthorized(ILogger logger, string method, PathString path, string remote);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Admin caller {Remote} locked out after too many wrong or missing tokens")]
        public static partial void LockedOut(ILogger logger, string remote);

        [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Admin {Method} {Path} from locked-out {Remote} refused with 429 for {Seconds} s more; further refusals are counted, not logged")]
        public static partial void LockedOutRefused(ILogger logger, string method, PathString path, string remote, int seconds);
    }
}
