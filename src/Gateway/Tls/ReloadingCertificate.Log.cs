namespace Gateway.Tls;

public sealed partial class ReloadingCertificate
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Public TLS certificate reloaded from {Path}: {Subject}, valid until {NotAfter:u}")]
        public static partial void Reloaded(ILogger logger, string path, string subject, DateTime notAfter);

        [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Public TLS certificate not reloaded, the previous one stays in use: {Reason}")]
        public static partial void ReloadFailed(ILogger logger, string reason);
    }
}
