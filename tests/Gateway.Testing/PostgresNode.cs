using Npgsql;

namespace Gateway.Testing;

/// <summary>
/// One real PostgreSQL server started by a test fixture, running as the postgres user on loopback, or inside a
/// network namespace on that namespace's address when <paramref name="placement"/> says so.
/// </summary>
public sealed class PostgresNode(string name, string dataDirectory, int port, NetworkPlacement? placement = null)
{
    public string Name { get; } = name;
    public string DataDirectory { get; } = dataDirectory;
    public NetworkPlacement Placement { get; } = placement ?? NetworkPlacement.Loopback;
    public string Host => Placement.Address;
    public int Port { get; } = port;
    public string LogFile => DataDirectory + ".log";

    public string ConnectionString(string database = "postgres") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Username = "postgres",
            Database = database,
            Pooling = false,
            Timeout = 5,
        }.ConnectionString;

    /// <summary>On this node's own port and address: a rewind or base backup from the other node copied that node's postgresql.conf.</summary>
    public Task StartAsync() =>
        ProcessRunner.RunAsPostgresAsync(Placement, "pg_ctl", "-D", DataDirectory, "-o", $"-p {Port} -h {Host}", "-l", LogFile, "-w", "-t", "30", "start");

    /// <summary>Stops the server if it runs; a server a test killed (stale postmaster.pid) counts as stopped.</summary>
    public async Task StopAsync(string mode = "fast")
    {
        if (IsRunning)
        {
            try
            {
                await ProcessRunner.RunAsPostgresAsync("pg_ctl", "-D", DataDirectory, "-m", mode, "-w", "-t", "30", "stop");
            }
            catch (InvalidOperationException) when (!IsRunning)
            {
                // pg_ctl gives up ("server does not shut down") when the postmaster vanishes but leaves its pid file,
                // as one killed earlier does once it is reaped: it is stopped all the same.
            }
        }
    }

    public bool IsRunning =>
        File.Exists(Path.Combine(DataDirectory, "postmaster.pid"))
        && int.TryParse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).FirstOrDefault(), out var pid)
        && IsAlive(pid);

    /// <summary>
    /// A postmaster killed with SIGKILL stays in /proc as a zombie until its parent (init, here) reaps it. It runs
    /// nothing and never removes its pid file, so pg_ctl stop would wait for it in vain (seen once in CI: "server
    /// does not shut down" in a fixture's cleanup).
    /// </summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // "pid (command) state ...": the command may hold spaces and parentheses, the state follows the last ')'.
            return stat[(stat.LastIndexOf(')') + 2)..] is not ['Z', ..];
        }
        catch (IOException)
        {
            return false;
        }
    }

    public async Task<T> ScalarAsync<T>(string sql, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
