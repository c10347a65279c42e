using System.Text.RegularExpressions;
using Npgsql;

namespace Broker.Configuration;

/// <summary>The broker's validated settings, read once at start from the "Broker" configuration section.</summary>
/// <remarks>
/// A class, not a record: a record's generated ToString would print the connection string, password included,
/// the first time anyone logged the settings.
/// </remarks>
internal sealed partial class BrokerSettings(string instanceId, string connectionString, string filestorePath)
{
    public const string InstanceIdKey = "Broker:InstanceId";
    public const string ConnectionStringKey = "Broker:ConnectionString";
    public const string FilestorePathKey = "Broker:FilestorePath";

    public string InstanceId { get; } = instanceId;
    public string ConnectionString { get; } = connectionString;
    public string FilestorePath { get; } = filestorePath;

    /// <summary>Reads and validates the settings; throws <see cref="BrokerConfigurationException"/> naming the first bad key.</summary>
    public static BrokerSettings Load(IConfiguration configuration)
    {
        var instanceId = Required(configuration, InstanceIdKey);
        if (!HeaderSafeInstanceId().IsMatch(instanceId))
        {
            // The id is echoed in the X-Served-By header of every response, so it must be a plain token.
            throw new BrokerConfigurationException(InstanceIdKey, "must be 1 to 64 letters, digits, '.', '_' or '-'");
        }

        var connectionString = Required(configuration, ConnectionStringKey);
        RequireUsableConnectionString(connectionString);

        return new BrokerSettings(instanceId, connectionString, Required(configuration, FilestorePathKey));
    }

    /// <summary>Where the database is, for logs: host, port and database only, never credentials.</summary>
    public string DatabaseDescription
    {
        get
        {
            var parsed = new NpgsqlConnectionStringBuilder(ConnectionString);
            return $"host {parsed.Host} port {parsed.Port} database {parsed.Database}";
        }
    }

    private static string Required(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        return string.IsNullOrWhiteSpace(value) ? throw new BrokerConfigurationException(key, "is required") : value;
    }

    private static void RequireUsableConnectionString(string connectionString)
    {
        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            // The parser's message may quote the offending fragment, which could be the password: say less.
            throw new BrokerConfigurationException(ConnectionStringKey, "is not a valid Npgsql connection string");
        }

        if (string.IsNullOrWhiteSpace(parsed.Host))
        {
            throw new BrokerConfigurationException(ConnectionStringKey, "must name a Host");
        }

        if (string.IsNullOrWhiteSpace(parsed.Database))
        {
            throw new BrokerConfigurationException(ConnectionStringKey, "must name a Database");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex HeaderSafeInstanceId();
}
