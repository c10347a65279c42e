namespace Gateway.Routing.Reload;

public sealed partial class ConfigurationReloader
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Configuration: {Sentence}")]
        public static partial void Applied(ILogger logger, string sentence);

        [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Configuration: {Sentence}")]
        public static partial void Refused(ILogger logger, string sentence);

        [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Configuration: {Sentence}")]
        public static partial void Unchanged(ILogger logger, string sentence);

        [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Configuration: SIGHUP received, reading the configuration file again")]
        public static partial void Hangup(ILogger logger);
    }
}
