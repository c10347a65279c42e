namespace Gateway.Observability;

public sealed partial class GatewayMetrics
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "The metrics of {Metric} could not be read; an observed gauge's series are left out of this scrape")]
        public static partial void ScrapeUpdateFailed(ILogger logger, string metric, Exception exception);
    }
}
