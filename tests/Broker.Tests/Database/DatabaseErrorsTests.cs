using System.Net.Sockets;
using Broker.Database;
using Npgsql;

namespace Broker.Tests.Database;

public sealed class DatabaseErrorsTests
{
    [Theory]
    [InlineData(PostgresErrorCodes.AdminShutdown)] // gateway closed sessions to the old primary
    [InlineData(PostgresErrorCodes.CrashShutdown)]
    [InlineData(PostgresErrorCodes.CannotConnectNow)] // standby still promoting
    [InlineData(PostgresErrorCodes.ReadOnlySqlTransaction)] // session still on a demoted primary
    [InlineData(PostgresErrorCodes.ConnectionFailure)]
    public void Failover_errors_are_transient_and_poison_the_pool(string sqlState)
    {
        var failure = ServerError(sqlState);

        Assert.True(DatabaseErrors.IsTransient(failure));
        Assert.True(DatabaseErrors.IsConnectionLevel(failure));
    }

    [Fact]
    public void A_refused_connection_is_transient_and_poisons_the_pool()
    {
        var failure = new NpgsqlException("Failed to connect to 127.0.0.1:1", new SocketException((int)SocketError.ConnectionRefused));

        Assert.True(DatabaseErrors.IsTransient(failure));
        Assert.True(DatabaseErrors.IsConnectionLevel(failure));
        Assert.StartsWith("Failed to connect to 127.0.0.1:1: ", DatabaseErrors.Describe(failure));
    }

    [Fact]
    public void A_deadlock_is_retried_on_the_same_pool()
    {
        var failure = ServerError(PostgresErrorCodes.DeadlockDetected);

        Assert.True(DatabaseErrors.IsTransient(failure));
        Assert.False(DatabaseErrors.IsConnectionLevel(failure));
    }

    [Theory]
    [InlineData(PostgresErrorCodes.UniqueViolation)]
    [InlineData(PostgresErrorCodes.UndefinedTable)]
    [InlineData(PostgresErrorCodes.InvalidPassword)]
    public void Errors_that_would_repeat_are_not_retried(string sqlState)
    {
        var failure = ServerError(sqlState);

        Assert.False(DatabaseErrors.IsTransient(failure));
        Assert.False(DatabaseErrors.IsConnectionLevel(failure));
    }

    [Fact]
    public void Non_database_errors_are_not_retried() =>
        Assert.False(DatabaseErrors.IsTransient(new InvalidOperationException("bug")));

    private static PostgresException ServerError(string sqlState) => new("message", "ERROR", "ERROR", sqlState);
}
