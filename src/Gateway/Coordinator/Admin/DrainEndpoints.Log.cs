namespace Gateway.Coordinator.Admin;

public static partial class DrainEndpoints
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Operator drain: {Summary}")]
        public static partial void Drained(ILogger logger, string summary);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Operator undrain: {Summary}")]
        public static partial void Undrained(ILogger logger, string summary);
    }
}
