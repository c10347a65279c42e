namespace Gateway.Routing;

public sealed partial class RequestFramingMiddleware
{
    private static partial class Log
    {
        // Debug, as Kestrel logs the requests its parser refuses: hostile clients must not be able to flood the log.
        [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Refused a request from {Client} with {Status} before forwarding: {Reason}")]
        public static partial void Refused(ILogger logger, int status, string? client, string reason);
    }
}
