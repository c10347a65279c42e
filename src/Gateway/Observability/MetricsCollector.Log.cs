namespace Gateway.Observability;

public sealed partial class MetricsCollector
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Metric instrument {Instrument} is not exposed: another instrument already has the Prometheus name {Name}")]
        public static partial void DuplicateName(ILogger logger, string instrument, string name);

        [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Metric instrument {Instrument} is not exposed: {Kind} is not a kind of instrument /metrics knows")]
        public static partial void UnsupportedInstrument(ILogger logger, string instrument, string kind);

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "An observable metric instrument failed to report its values; its series are left out of this scrape")]
        public static partial void ObservationFailed(ILogger logger, Exception exception);
    }
}
