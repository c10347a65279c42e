namespace Gateway.Routing;

public sealed partial class ConsecutiveFailuresPassivePolicy
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Passive health: {Sentence}")]
        public static partial void TakenOutOfRotation(ILogger logger, string sentence);
    }
}
