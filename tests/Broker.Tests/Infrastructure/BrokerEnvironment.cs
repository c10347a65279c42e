using Gateway.Testing;
using Npgsql;

namespace Broker.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL primary (with its standby) holding the <c>broker</c> database, and one broker process
/// serving it, shared by the tests of the <see cref="PostgresCollection"/>. Tests that need a broker of their
/// own (other settings, a fresh database, faults) start one with <see cref="NewBroker"/>.
/// </summary>
public sealed class BrokerEnvironment : IAsyncLifetime
{
    /// <summary>Passed to every broker although PostgreSQL trusts loopback, so tests can check it never leaks.</summary>
    public const string DatabasePassword = "never-print-this-4f2c";

    public const string SharedDatabase = "broker";

    private readonly List<BrokerProcess> _brokers = [];

    public PostgresPair Postgres { get; } = new();
    public Filestore Filestore { get; } = new();
    public BrokerProcess SharedBroker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Postgres.InitializeAsync();
        await Postgres.Primary.ExecuteAsync($"CREATE DATABASE {SharedDatabase}");
        SharedBroker = NewBroker("t1", BrokerConnectionString(SharedDatabase), Filestore.LinkPath);
        await SharedBroker.StartAsync();
    }

    /// <summary>How a broker reaches a database on the primary: pooled, as in production, and with a password to hide.</summary>
    public string BrokerConnectionString(string database, int? port = null) =>
        new NpgsqlConnectionStringBuilder(Postgres.Primary.ConnectionString(database))
        {
            Port = port ?? Postgres.Primary.Port,
            Password = DatabasePassword,
            Pooling = true,
        }.ConnectionString;

    /// <summary>Creates an empty database on the primary for a test that must not see the shared one.</summary>
    public async Task CreateDatabaseAsync(string name) => await Postgres.Primary.ExecuteAsync($"CREATE DATABASE {name}");

    /// <summary>A broker process on a free port, not yet started, killed when the environment is disposed.</summary>
    public BrokerProcess NewBroker(string instanceId, string connectionString, string filestorePath)
    {
        var broker = new BrokerProcess(instanceId, FreePort.Next(), connectionString, filestorePath);
        _brokers.Add(broker);
        return broker;
    }

    public async Task DisposeAsync()
    {
        foreach (var broker in _brokers)
        {
            await broker.DisposeAsync();
        }

        await Postgres.DisposeAsync();
        Filestore.Dispose();
    }
}
