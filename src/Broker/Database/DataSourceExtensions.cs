using Npgsql;

namespace Broker.Database;

internal static class DataSourceExtensions
{
    /// <summary>
    /// After a connection-level failure, idle pooled connections likely share the fate (a dead or demoted primary
    /// behind the gateway), so drop them and let the next attempt dial afresh.
    /// </summary>
    public static void ForgetConnectionsAfter(this NpgsqlDataSource dataSource, Exception failure)
    {
        if (DatabaseErrors.IsConnectionLevel(failure))
        {
            dataSource.Clear();
        }
    }
}
