using Xunit;

namespace Gateway.Testing;

/// <summary>
/// A real PostgreSQL primary and a streaming standby (initdb + pg_basebackup -R), on loopback, with trust
/// authentication for the postgres user. Starts in a few seconds; share it through a collection fixture.
/// </summary>
public sealed class PostgresPair : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "gateway-pg-" + Guid.NewGuid().ToString("N")[..8]);

    public PostgresNode Primary { get; private set; } = null!;
    public PostgresNode Standby { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        await ProcessRunner.RunAsync("chown", ["postgres:postgres", _root]);
        Primary = new PostgresNode("A", Path.Combine(_root, "a"), FreePort.Next());
        Standby = new PostgresNode("B", Path.Combine(_root, "b"), FreePort.Next());

        await ProcessRunner.RunAsPostgresAsync("initdb", "-D", Primary.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
        await File.AppendAllTextAsync(Path.Combine(Primary.DataDirectory, "postgresql.conf"), ServerSettings(Primary.Port));
        await Primary.StartAsync();

        await ProcessRunner.RunAsPostgresAsync("pg_basebackup", "-h", Primary.Host, "-p", Primary.Port.ToString(), "-U", "postgres",
            "-D", Standby.DataDirectory, "-R", "-X", "stream", "--no-sync");
        await File.AppendAllTextAsync(Path.Combine(Standby.DataDirectory, "postgresql.conf"), $"\nport = {Standby.Port}\n");
        await Standby.StartAsync();
    }

    private static string ServerSettings(int port) => $"""

        port = {port}
        listen_addresses = '127.0.0.1'
        unix_socket_directories = ''
        wal_level = replica
        max_wal_senders = 10
        hot_standby = on
        wal_log_hints = on
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
