using Xunit;

namespace Gateway.Testing;

/// <summary>
/// A real PostgreSQL primary and a streaming standby (initdb + pg_basebackup -R), on loopback (or each in a network
/// namespace, see <see cref="PrimaryPlacement"/>), with trust authentication for the postgres user. Starts in a few
/// seconds; share it through a collection fixture.
/// </summary>
public sealed class PostgresPair : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "gateway-pg-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>Where the primary (site A) runs and listens; loopback unless a test puts the sites in namespaces.</summary>
    public NetworkPlacement PrimaryPlacement { get; init; } = NetworkPlacement.Loopback;

    /// <summary>Where the standby (site B) runs and listens; it streams from <see cref="PrimaryPlacement"/>'s address.</summary>
    public NetworkPlacement StandbyPlacement { get; init; } = NetworkPlacement.Loopback;

    /// <summary>postgresql.conf lines added after the pair's own (later lines win): archiving, a Unix socket directory.</summary>
    public string ExtraSettings { get; init; } = "";

    public PostgresNode Primary { get; private set; } = null!;
    public PostgresNode Standby { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        await ProcessRunner.RunAsync("chown", ["postgres:postgres", _root]);
        Primary = new PostgresNode("A", Path.Combine(_root, "a"), FreePort.Next(), PrimaryPlacement);
        Standby = new PostgresNode("B", Path.Combine(_root, "b"), FreePort.Next(), StandbyPlacement);

        await ProcessRunner.RunAsPostgresAsync("initdb", "-D", Primary.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
        await File.AppendAllTextAsync(Path.Combine(Primary.DataDirectory, "postgresql.conf"), ServerSettings(Primary.Port, Primary.Host) + ExtraSettings + "\n");
        if (!PrimaryPlacement.IsLoopback || !StandbyPlacement.IsLoopback)
        {
            // initdb's pg_hba.conf trusts loopback only; the gateway and the other site connect from private test subnets.
            await File.AppendAllTextAsync(Path.Combine(Primary.DataDirectory, "pg_hba.conf"), TrustPrivateSubnets);
        }

        await Primary.StartAsync();

        await ProcessRunner.RunAsPostgresAsync(StandbyPlacement, "pg_basebackup", "-h", Primary.Host, "-p", Primary.Port.ToString(), "-U", "postgres",
            "-D", Standby.DataDirectory, "-R", "-X", "stream", "--no-sync");
        await File.AppendAllTextAsync(Path.Combine(Standby.DataDirectory, "postgresql.conf"),
            $"\nport = {Standby.Port}\nlisten_addresses = '{Standby.Host}'\n");
        await Standby.StartAsync();
    }

    /// <summary>
    /// Stops both servers cleanly and keeps a copy of their data directories (beside them), then starts them again:
    /// <see cref="RestoreSnapshotAsync"/> brings the pair back to this moment in a second or two, far faster than a
    /// new pair, whatever a test did to it (promoted, stopped, rewound).
    /// </summary>
    public async Task SnapshotAsync()
    {
        await Primary.StopAsync();
        await Standby.StopAsync();
        foreach (var node in new[] { Primary, Standby })
        {
            await ProcessRunner.RunAsync("rm", ["-rf", SnapshotOf(node)]);
            await ProcessRunner.RunAsync("cp", ["-a", node.DataDirectory, SnapshotOf(node)]);
        }

        await Primary.StartAsync();
        await Standby.StartAsync();
    }

    /// <summary>Back to the last <see cref="SnapshotAsync"/>: A the primary, B streaming from it, the data as it was.</summary>
    public async Task RestoreSnapshotAsync()
    {
        foreach (var node in new[] { Standby, Primary })
        {
            await node.StopAsync("immediate");
            await ProcessRunner.RunAsync("rm", ["-rf", node.DataDirectory]);
            await ProcessRunner.RunAsync("cp", ["-a", SnapshotOf(node), node.DataDirectory]);
        }

        await Primary.StartAsync();
        await Standby.StartAsync();
    }

    private static string SnapshotOf(PostgresNode node) => node.DataDirectory + ".snapshot";

    private const string TrustPrivateSubnets = """

        host all all 10.0.0.0/8 trust
        host replication all 10.0.0.0/8 trust

        """;

    private static string ServerSettings(int port, string listenAddress) => $"""

        port = {port}
        listen_addresses = '{listenAddress}'
        unix_socket_directories = ''
        wal_level = replica
        max_wal_senders = 10
        hot_standby = on
        wal_log_hints = on
        # As in the demo: pg_rewind reads the old primary's WAL back to its last checkpoint before the fork, and the
        # crash recovery it runs on a killed primary first would otherwise recycle those segments.
        wal_keep_size = '256MB'
        fsync = off
        max_connections = 200
        # A standby whose primary died retries every wal_retrieve_retry_interval (5 s by default); a promotion
        # arriving during that sleep can wait for it. The gateway's failover budget is 2 s.
        wal_retrieve_retry_interval = '200ms'

        """;

    public async Task DisposeAsync()
    {
        foreach (var node in new[] { Standby, Primary })
        {
            if (node is not null)
            {
                await node.StopAsync("immediate");
            }
        }

        Directory.Delete(_root, recursive: true);
    }
}
