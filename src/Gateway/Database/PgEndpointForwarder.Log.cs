namespace Gateway.Database;

public sealed partial class PgEndpointForwarder
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "PG {Role} endpoint: client {Client} forwarded to {Target}")]
        public static partial void Forwarding(ILogger logger, DatabaseEndpointRole role, string? client, string target);

        [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "PG {Role} endpoint: session of {Client} with {Target} closed")]
        public static partial void Closed(ILogger logger, DatabaseEndpointRole role, string? client, string target);

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "PG {Role} endpoint: database node {Target} unreachable ({Reason}); refused client {Client}")]
        public static partial void NodeUnreachable(ILogger logger, DatabaseEndpointRole role, string target, string reason, string? client);

        [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "PG {Role} endpoint: refused client {Client}: {Reason}")]
        public static partial void Refused(ILogger logger, DatabaseEndpointRole role, string? client, string reason);

        [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "PG {Role} endpoint: refused client {Client} with too_many_connections: the endpoint has {Max} connections open")]
        public static partial void OverLimit(ILogger logger, DatabaseEndpointRole role, string? client, int max);

        // Debug: a port scanner or a flood of silent clients must not be able to flood the log.
        [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "PG {Role} endpoint: closed client {Client} before forwarding: first message {Startup}")]
        public static partial void NotPostgreSql(ILogger logger, DatabaseEndpointRole role, string? client, PgStartupKind startup);

        [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "PG {Role} endpoint: the routes changed while client {Client} was connecting to {Target}; deciding again")]
        public static partial void Rerouted(ILogger logger, DatabaseEndpointRole role, string? client, string target);
    }
}
