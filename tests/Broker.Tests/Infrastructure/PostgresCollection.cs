namespace Broker.Tests.Infrastructure;

/// <summary>
/// Tests that need the real PostgreSQL pair share one (it takes seconds to start) and run one after another,
/// so a test that cuts the database off cannot disturb another's requests.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<BrokerEnvironment>
{
    public const string Name = "PostgreSQL";
}
