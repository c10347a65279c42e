using Gateway.Configuration;

namespace Gateway.Observability;

public sealed partial class TraceExport
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Exporting traces to {Endpoint} over OTLP ({Protocol})")]
        public static partial void Exporting(ILogger logger, Uri endpoint, OtlpProtocol protocol);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Trace export stopped; spans still buffered were flushed")]
        public static partial void Stopped(ILogger logger);
    }
}
