using Gateway.Configuration;
using Npgsql;

namespace Gateway.Backup;

/// <summary>
/// A throw-away PostgreSQL on a restored data directory: started on a Unix socket only (no TCP port, nothing else
/// can reach it), archive_mode off, left to recover to the restore point; stopped and its socket directory removed
/// on dispose.
/// </summary>
public sealed class RecoveringCopy : IAsyncDisposable
{
    public const int Port = 5432;
    private readonly string _dataDirectory;
    private readonly string _workDirectory;
    private readonly GatewayOptions _gateway;
    private readonly IBackupTool _tool;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _osUser;
    private bool _started;

    private RecoveringCopy(string dataDirectory, string workDirectory, GatewayOptions gateway, string osUser, IBackupTool tool)
    {
        (_dataDirectory, _workDirectory, _gateway, _osUser, _tool) = (dataDirectory, workDirectory, gateway, osUser, tool);
        var password = DatabasePassword.Environment(gateway.Database).GetValueOrDefault("PGPASSWORD");
        _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder
        {
            Host = workDirectory,
            Port = Port,
            Username = gateway.Database.Username,
            Password = password,
            Database = "postgres",
            Pooling = false,
            Timeout = 5,
        }.ConnectionString);
    }

    /// <summary>The socket directory, for PGHOST: short, under /tmp (a Unix socket path has at most 107 characters).</summary>
    public string SocketDirectory => _workDirectory;

    public string LogFile => Path.Combine(_workDirectory, "postgres.log");

    public NpgsqlDataSource DataSource => _dataSource;

    public static async Task<RecoveringCopy> StartAsync(string dataDirectory, GatewayOptions gateway, BackupOptions options, PgBackRest owner, IBackupTool tool, CancellationToken cancellation)
    {
        var work = Directory.CreateTempSubdirectory("gw-restore-").FullName;
        // The copy's own pg_hba.conf may allow its user only by peer or password; its socket is in a directory only the
        // database's user and root can enter, so trust there lets the gateway and Backup:VerifyCommand in, and nobody else.
        var hba = Path.Combine(work, "pg_hba.conf");
        await File.WriteAllTextAsync(hba, "# the restored copy's socket, in a directory only its owner and root can enter\nlocal all all trust\n", cancellation);
        await owner.OwnAsync(work, cancellation);
        var copy = new RecoveringCopy(dataDirectory, work, gateway, options.PgBackRest.OsUser, tool);
        var settings = string.Join(' ', new[]
        {
            $"port={Port}", "listen_addresses=''", $"unix_socket_directories='{work}'", $"hba_file='{hba}'", "archive_mode=off", "hot_standby=on",
            "synchronous_standby_names=''", "default_transaction_read_only=off",
        }.Select(setting => "-c " + setting));
        var result = await tool.RunAsync(copy.PgCtl(["-D", dataDirectory, "-l", copy.LogFile, "-o", settings, "-w", "-t", "600", "start"]), cancellation);
        copy._started = true;
        if (!result.Succeeded)
        {
            var log = copy.LogTail();
            await copy.DisposeAsync();
            throw new InvalidOperationException($"the restored copy does not start: {result.Failure()}; its log: {log}");
        }

        return copy;
    }

    /// <summary>Waits until recovery has stopped at <paramref name="restorePoint"/> and promoted or paused there; fails with the server's own words.</summary>
    public async Task<string> WaitForTargetAsync(string restorePoint, bool promote, TimeSpan within, TimeProvider time, CancellationToken cancellation)
    {
        var giveUpAt = time.GetUtcNow() + within;
        string? lastError = null;
        while (time.GetUtcNow() < giveUpAt)
        {
            try
            {
                if (await BackupSql.ReachedTargetAsync(_dataSource, promote, cancellation))
                {
                    var stoppedAt = $"recovery stopping at restore point \"{restorePoint}\"";
                    return LogText().Contains(stoppedAt, StringComparison.Ordinal)
                        ? $"recovered to restore point '{restorePoint}' and {(promote ? "promoted" : "paused there")}"
                        : throw new InvalidOperationException($"the copy left recovery without stopping at restore point '{restorePoint}'; its log: {LogTail()}");
                }
            }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException)
            {
                lastError = e.Message;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellation);
        }

        throw new InvalidOperationException($"the copy did not reach restore point '{restorePoint}' within {within}{(lastError is null ? "" : $" ({lastError})")}; its log: {LogTail()}");
    }

    /// <summary>A clean stop: a promoted copy then starts anywhere without the repository.</summary>
    public async Task StopAsync(string mode, CancellationToken cancellation)
    {
        if (_started)
        {
            await _tool.RunAsync(PgCtl(["-D", _dataDirectory, "-m", mode, "-w", "-t", "120", "stop"]), cancellation);
            _started = false;
        }
    }

    private ToolCommand PgCtl(IReadOnlyList<string> arguments) =>
        new(Path.Combine(_gateway.Database.BinDirectory, "pg_ctl"), arguments) { OsUser = _osUser };

    private string LogText() => File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";

    public string LogTail() => string.Join(" | ", LogText().Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(6));

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync("immediate", CancellationToken.None);
        }
        finally
        {
            await _dataSource.DisposeAsync();
            Directory.Delete(_workDirectory, recursive: true);
        }
    }
}
