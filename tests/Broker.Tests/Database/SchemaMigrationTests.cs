using Broker.Database;
using Broker.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Broker.Tests.Database;

[Integration]
[Collection(PostgresCollection.Name)]
public sealed class SchemaMigrationTests(BrokerEnvironment environment)
{
    [Fact]
    public async Task Two_brokers_starting_together_create_the_schema_exactly_once()
    {
        const string database = "broker_concurrent_start";
        await environment.CreateDatabaseAsync(database);
        using var filestore = new Filestore();
        var brokers = new[] { "c1", "c2" }
            .Select(id => environment.NewBroker(id, environment.BrokerConnectionString(database), filestore.LinkPath))
            .ToArray();

        await Task.WhenAll(brokers.Select(broker => broker.StartAsync()));

        Assert.Equal([SchemaMigrations.LatestVersion], await AppliedVersionsAsync(database));
        var logs = string.Concat(brokers.Select(broker => broker.StandardOutput));
        Assert.Equal(1, CountOccurrences(logs, "Applying schema migration 1"));
        Assert.DoesNotContain("fail:", logs);
        foreach (var broker in brokers)
        {
            await broker.DisposeAsync();
        }
    }

    [Fact]
    public async Task Many_migrators_at_once_apply_each_migration_once_and_later_runs_change_nothing()
    {
        const string database = "broker_parallel_migrations";
        await environment.CreateDatabaseAsync(database);
        await using var dataSource = NpgsqlDataSource.Create(environment.BrokerConnectionString(database));
        var migrator = new SchemaMigrator(dataSource, NullLogger<SchemaMigrator>.Instance);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => migrator.MigrateAsync(CancellationToken.None)));
        await migrator.MigrateAsync(CancellationToken.None);

        Assert.Equal([SchemaMigrations.LatestVersion], await AppliedVersionsAsync(database));
        Assert.Equal(0L, await environment.Postgres.Primary.ScalarAsync<long>("SELECT count(*) FROM deposits", database));
    }

    private async Task<int[]> AppliedVersionsAsync(string database)
    {
        var versions = await environment.Postgres.Primary.ScalarAsync<int[]>(
            "SELECT coalesce(array_agg(version ORDER BY version), '{}') FROM schema_version", database);
        return versions;
    }

    private static int CountOccurrences(string text, string fragment) =>
        (text.Length - text.Replace(fragment, "", StringComparison.Ordinal).Length) / fragment.Length;
}
