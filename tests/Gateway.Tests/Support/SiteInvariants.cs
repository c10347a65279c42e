using System.Security.Cryptography;
using Gateway.Testing;
using Npgsql;

namespace Gateway.Tests.Support;

/// <summary>
/// The invariants of docs/architecture.md, section 6, checked from outside the gateway, on the real parts: which PostgreSQL node takes
/// writes (asked directly), where the gateway's write endpoint really leads, and whether the directory the filestore
/// link points at holds every file of the other SAN.
/// </summary>
public static class SiteInvariants
{
    /// <summary>
    /// The one node out of recovery ("A" or "B"); fails when none or both are. A node that does not answer takes no writes;
    /// with <paramref name="exceptFenced"/>, neither does one out of recovery but made read-only by the gateway (an old
    /// primary cut off during a failover, fenced when it is reachable again, stays so until it rejoins).
    /// </summary>
    public static async Task<string> SingleWritableNodeAsync(PostgresPair postgres, bool exceptFenced = false)
    {
        var writable = new List<string>();
        foreach (var (site, node) in new[] { ("A", postgres.Primary), ("B", postgres.Standby) })
        {
            if (await OutOfRecoveryAsync(node, exceptFenced) == true)
            {
                writable.Add(site);
            }
        }

        Assert.True(writable.Count == 1, $"expected exactly one writable database node, found [{string.Join(", ", writable)}]");
        return writable[0];
    }

    private static async Task<bool?> OutOfRecoveryAsync(PostgresNode node, bool exceptFenced)
    {
        try
        {
            return await node.ScalarAsync<bool>(exceptFenced
                ? "SELECT NOT pg_is_in_recovery() AND current_setting('default_transaction_read_only') = 'off'"
                : "SELECT NOT pg_is_in_recovery()");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>The port of the server a connection through the gateway's write endpoint reaches, and whether it takes writes.</summary>
    public static async Task<(int ServerPort, bool InRecovery)> WriteEndpointLeadsToAsync(int gatewayWritePort)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = gatewayWritePort,
            Username = "postgres",
            Database = "postgres",
            Pooling = false,
            Timeout = 15,
        }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT inet_server_port(), pg_is_in_recovery()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt32(0), reader.GetBoolean(1));
    }

    /// <summary>Every file under <paramref name="other"/> is under <paramref name="linkTarget"/> with the same content (hidden temp files aside).</summary>
    public static void AssertCompleteReplica(string linkTarget, string other)
    {
        var missing = new List<string>();
        foreach (var file in Directory.EnumerateFiles(other, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(other, file);
            if (relative.Split('/').Any(part => part.StartsWith('.')))
            {
                continue;
            }

            var copy = Path.Combine(linkTarget, relative);
            if (!File.Exists(copy) || !SHA256.HashData(File.ReadAllBytes(copy)).SequenceEqual(SHA256.HashData(File.ReadAllBytes(file))))
            {
                missing.Add(relative);
            }
        }

        Assert.True(missing.Count == 0, $"{linkTarget} lacks {missing.Count} file(s) of {other}: {string.Join(", ", missing.Take(10))}");
    }
}
