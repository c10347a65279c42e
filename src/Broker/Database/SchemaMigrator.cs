using Npgsql;

namespace Broker.Database;

/// <summary>Brings the database schema up to <see cref="SchemaMigrations.LatestVersion"/>, safely from many instances at once.</summary>
internal sealed class SchemaMigrator(NpgsqlDataSource dataSource, ILogger<SchemaMigrator> logger)
{
    /// <summary>
    /// An arbitrary constant shared by every broker instance: whoever holds this advisory lock is the only one
    /// migrating, so instances starting together neither race on CREATE TABLE nor apply a migration twice.
    /// </summary>
    private const long MigrationLockKey = 0x42_726F_6B65_72; // "Broker" in ASCII

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Transaction-scoped, so the lock is released by commit, rollback or a dropped connection alike.
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLockKey})", cancellationToken);
        await ExecuteAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)", cancellationToken);

        var current = await CurrentVersionAsync(connection, transaction, cancellationToken);
        for (var version = current + 1; version <= SchemaMigrations.LatestVersion; version++)
        {
            logger.LogInformation("Applying schema migration {Version}", version);
            await ExecuteAsync(connection, transaction, SchemaMigrations.InOrder[version - 1], cancellationToken);
            await ExecuteAsync(connection, transaction, $"INSERT INTO schema_version (version) VALUES ({version})", cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Schema is at version {Version} (was {Previous})", SchemaMigrations.LatestVersion, current);
    }

    private static async Task<int> CurrentVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM schema_version", connection, transaction);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
