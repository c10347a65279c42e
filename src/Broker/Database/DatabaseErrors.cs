using System.Collections.Frozen;
using Npgsql;

namespace Broker.Database;

/// <summary>Sorts database failures into "try again" and "give up", and spots those that poison pooled connections.</summary>
internal static class DatabaseErrors
{
    /// <summary>Server errors that mean this session (or its server) is going away or is the wrong server.</summary>
    /// <remarks>
    /// During a failover the gateway closes sessions to the old primary (admin or crash shutdown), a promoting
    /// standby refuses connections for a moment (cannot connect now), and a session still attached to a demoted
    /// primary gets read-only errors. All of them succeed on a fresh connection a little later.
    /// </remarks>
    private static readonly FrozenSet<string> SessionEndingSqlStates = FrozenSet.Create(
        PostgresErrorCodes.AdminShutdown,
        PostgresErrorCodes.CrashShutdown,
        PostgresErrorCodes.CannotConnectNow,
        PostgresErrorCodes.ReadOnlySqlTransaction);

    /// <summary>The operation may succeed if tried again shortly.</summary>
    public static bool IsTransient(Exception exception) =>
        exception is NpgsqlException npgsqlException && (npgsqlException.IsTransient || IsConnectionLevel(npgsqlException));

    /// <summary>
    /// The failure lies with the connection itself, so pooled connections to the same server are suspect too
    /// and must not be handed out again.
    /// </summary>
    public static bool IsConnectionLevel(Exception exception) => exception switch
    {
        PostgresException serverError => SessionEndingSqlStates.Contains(serverError.SqlState)
                                         || serverError.SqlState.StartsWith("08", StringComparison.Ordinal),
        // Not a server error: the socket failed (refused, reset, timed out) or the stream broke mid-message.
        NpgsqlException => true,
        _ => false,
    };

    /// <summary>
    /// A one-line reason for logs and health reports. Npgsql's own message is often just "Failed to connect to
    /// host:port"; the socket error underneath ("Connection refused") is what tells an operator what happened.
    /// </summary>
    public static string Describe(Exception exception) =>
        exception.InnerException is { } cause && exception is not PostgresException
            ? $"{exception.Message}: {cause.Message}"
            : exception.Message;
}
