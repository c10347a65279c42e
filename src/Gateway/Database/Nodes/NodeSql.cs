using Npgsql;

namespace Gateway.Database.Nodes;

/// <summary>The SQL the gateway sends a node to fence, promote, verify and configure it. Each statement is idempotent.</summary>
public static class NodeSql
{
    /// <summary>
    /// Makes the node refuse writes from now on (default_transaction_read_only, persisted with ALTER SYSTEM so a
    /// restart keeps it) and ends every client session but ours. Returns how many sessions were terminated.
    /// </summary>
    public static async Task<int> MakeReadOnlyAsync(NpgsqlDataSource node, CancellationToken cancellation)
    {
        await ExecuteAsync(node, "ALTER SYSTEM SET default_transaction_read_only = on", cancellation);
        await ExecuteAsync(node, "SELECT pg_reload_conf()", cancellation);
        await using var command = node.CreateCommand("""
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name <> 'gateway'
            """);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellation));
    }

    /// <summary>Undoes <see cref="MakeReadOnlyAsync"/>: a node about to become primary must take writes again.</summary>
    public static async Task AllowWritesAsync(NpgsqlDataSource node, CancellationToken cancellation)
    {
        await ExecuteAsync(node, "ALTER SYSTEM RESET default_transaction_read_only", cancellation);
        await ExecuteAsync(node, "SELECT pg_reload_conf()", cancellation);
    }

    /// <summary>Promotes a standby and waits for it to leave recovery; a node that is already primary is left alone.</summary>
    public static async Task PromoteAsync(NpgsqlDataSource node, TimeSpan wait, CancellationToken cancellation)
    {
        await using var command = node.CreateCommand("SELECT CASE WHEN pg_is_in_recovery() THEN pg_promote(true, @seconds) ELSE true END");
        command.Parameters.AddWithValue("seconds", (int)Math.Ceiling(wait.TotalSeconds));
        command.CommandTimeout = (int)Math.Ceiling(wait.TotalSeconds) + 5;
        if (await command.ExecuteScalarAsync(cancellation) is not true)
        {
            throw new InvalidOperationException($"pg_promote did not finish within {wait.TotalSeconds:0} s");
        }
    }

    /// <summary>
    /// Proves the node takes writes: a transaction that gets a transaction id and commits. Its commit does not wait
    /// for a synchronous standby (there may be none yet right after a failover), so the check cannot hang.
    /// </summary>
    public static async Task VerifyWritableAsync(NpgsqlDataSource node, CancellationToken cancellation)
    {
        await using var connection = await node.OpenConnectionAsync(cancellation);
        await using var transaction = await connection.BeginTransactionAsync(cancellation);
        await using (var command = new NpgsqlCommand("SET LOCAL synchronous_commit = local; SET LOCAL transaction_read_only = off; SELECT txid_current()", connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellation);
        }

        await transaction.CommitAsync(cancellation);
    }

    /// <summary>Resumes WAL replay an operator paused: a standby about to be promoted must apply everything it received.</summary>
    public static Task ResumeReplayAsync(NpgsqlDataSource node, CancellationToken cancellation) =>
        ExecuteAsync(node, "SELECT pg_wal_replay_resume() WHERE pg_is_in_recovery() AND pg_is_wal_replay_paused()", cancellation);

    /// <summary>
    /// Runs a checkpoint and waits for it. After a promotion the node's pg_control names its new timeline only once a
    /// checkpoint completes, and the one the promotion requests is spread out (checkpoint_completion_target): until
    /// it ends, pg_rewind reads the old timeline there and answers "no rewind required" for a node that cannot follow.
    /// Needs superuser or the pg_checkpoint role.
    /// </summary>
    public static async Task CheckpointAsync(NpgsqlDataSource node, TimeSpan wait, CancellationToken cancellation)
    {
        await using var command = node.CreateCommand("CHECKPOINT");
        command.CommandTimeout = (int)Math.Ceiling(wait.TotalSeconds);
        await command.ExecuteNonQueryAsync(cancellation);
    }

    /// <summary>Sets which standbys a commit waits for ('*' any one, '' none) and reloads.</summary>
    public static async Task SetSynchronousStandbysAsync(NpgsqlDataSource node, string names, CancellationToken cancellation)
    {
        await ExecuteAsync(node, $"ALTER SYSTEM SET synchronous_standby_names = '{names.Replace("'", "''")}'", cancellation);
        await ExecuteAsync(node, "SELECT pg_reload_conf()", cancellation);
    }

    private static async Task ExecuteAsync(NpgsqlDataSource node, string sql, CancellationToken cancellation)
    {
        await using var command = node.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellation);
    }
}
