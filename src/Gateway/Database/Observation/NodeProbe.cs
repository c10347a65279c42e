using Npgsql;
using NpgsqlTypes;

namespace Gateway.Database.Observation;

/// <summary>Reads one node's role, WAL positions and replication peers in two short queries.</summary>
public static class NodeProbe
{
    private const string NodeQuery = """
        SELECT pg_is_in_recovery(),
               CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM pg_stat_wal_receiver)
                    ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
               CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn() END,
               pg_last_wal_receive_lsn(),
               pg_last_wal_replay_lsn(),
               CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,
               current_setting('default_transaction_read_only') = 'on',
               current_setting('synchronous_standby_names')
        """;

    private const string PeersQuery = """
        SELECT application_name, client_addr::text, state, sync_state, replay_lsn, replay_lag,
               CASE WHEN flush_lsn < pg_current_wal_flush_lsn() THEN now() - reply_time END
        FROM pg_stat_replication
        """;

    public static async Task<NodeObservation> ObserveAsync(NpgsqlDataSource node, string siteId, DateTimeOffset now, NodeObservation? previous, CancellationToken cancellation)
    {
        await using var connection = await node.OpenConnectionAsync(cancellation);
        await using var command = new NpgsqlCommand(NodeQuery, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        await reader.ReadAsync(cancellation);
        var inRecovery = reader.GetBoolean(0);
        var timeline = reader.IsDBNull(1) ? (int?)null : reader.GetInt32(1);
        var flush = Lsn(reader, 2);
        var received = Lsn(reader, 3);
        var replayed = Lsn(reader, 4);
        var paused = reader.GetBoolean(5);
        var readOnly = reader.GetBoolean(6);
        var syncNames = reader.GetString(7);
        await reader.DisposeAsync();

        var peers = inRecovery ? [] : await ReadPeersAsync(connection, cancellation);
        return new NodeObservation(
            siteId, Reachable: true, Error: null, now, UnreachableSince: null, inRecovery, timeline, flush, received, replayed, paused,
            readOnly, syncNames, peers, LastKnownFlushLsn: flush ?? previous?.LastKnownFlushLsn, LastSeenAt: now);
    }

    private static async Task<IReadOnlyList<ReplicationPeer>> ReadPeersAsync(NpgsqlConnection connection, CancellationToken cancellation)
    {
        var peers = new List<ReplicationPeer>();
        await using var command = new NpgsqlCommand(PeersQuery, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        while (await reader.ReadAsync(cancellation))
        {
            peers.Add(new ReplicationPeer(
                reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? "" : reader.GetString(2),
                reader.IsDBNull(3) ? "" : reader.GetString(3),
                Lsn(reader, 4),
                reader.IsDBNull(5) ? null : reader.GetFieldValue<TimeSpan>(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<TimeSpan>(6)));
        }

        return peers;
    }

    private static ulong? Lsn(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : (ulong)reader.GetFieldValue<NpgsqlLogSequenceNumber>(ordinal);

    public static string Describe(Exception e) => e switch
    {
        OperationCanceledException => "no answer within the probe timeout",
        PostgresException pg => $"{pg.SqlState}: {pg.MessageText}",
        _ => e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message,
    };
}
