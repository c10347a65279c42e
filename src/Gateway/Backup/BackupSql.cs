using Npgsql;

namespace Gateway.Backup;

/// <summary>The SQL the backup feature sends a node: archiving settings, and the state of a recovering copy.</summary>
public static class BackupSql
{
    /// <summary>
    /// Points archive_command at the repository (ALTER SYSTEM and a reload; it works on a standby too, which archives
    /// once promoted). archive_mode needs a restart, so the gateway only reads it: off is the problem returned.
    /// </summary>
    public static async Task<string?> EnsureArchivingAsync(NpgsqlDataSource node, string siteId, string archiveCommand, CancellationToken cancellation)
    {
        await using var connection = await node.OpenConnectionAsync(cancellation);
        var mode = await ScalarAsync(connection, "SELECT current_setting('archive_mode')", cancellation);
        if (mode == "off")
        {
            return $"site {siteId}'s PostgreSQL runs with archive_mode = off: pgBackRest needs WAL archiving; set archive_mode = on in its postgresql.conf and restart it";
        }

        if (await ScalarAsync(connection, "SELECT current_setting('archive_command')", cancellation) != archiveCommand)
        {
            await using var alter = new NpgsqlCommand($"ALTER SYSTEM SET archive_command = '{archiveCommand.Replace("'", "''")}'", connection);
            await alter.ExecuteNonQueryAsync(cancellation);
            await ScalarAsync(connection, "SELECT pg_reload_conf()::text", cancellation);
        }

        return null;
    }

    /// <summary>Whether a recovering copy has reached its target: promoted (out of recovery), or paused there.</summary>
    public static async Task<bool> ReachedTargetAsync(NpgsqlDataSource node, bool promote, CancellationToken cancellation)
    {
        await using var connection = await node.OpenConnectionAsync(cancellation);
        return promote
            ? await ScalarAsync(connection, "SELECT (NOT pg_is_in_recovery())::text", cancellation) == "true"
            : await ScalarAsync(connection, "SELECT (pg_is_in_recovery() AND pg_get_wal_replay_pause_state() = 'paused')::text", cancellation) == "true";
    }

    public static async Task<bool> IsInRecoveryAsync(NpgsqlDataSource node, CancellationToken cancellation)
    {
        await using var connection = await node.OpenConnectionAsync(cancellation);
        return await ScalarAsync(connection, "SELECT pg_is_in_recovery()::text", cancellation) == "true";
    }

    private static async Task<string?> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken cancellation)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (await command.ExecuteScalarAsync(cancellation))?.ToString();
    }
}
