using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace Gateway.Tests.Cluster;

/// <summary>A write that got no acknowledgment: through which gateway, when it started and ended, and why (SQLSTATE or error type).</summary>
public sealed record FailedWrite(string Gateway, TimeSpan Sent, TimeSpan Ended, string Reason);

/// <summary>
/// Inserts through several gateways' PostgreSQL write endpoints at once, each through a small pool as an application
/// would, on one clock (<see cref="Now"/>): every insert returns the address of the server that committed it
/// (<c>inet_server_addr()</c>, which differs per site), so the log says which primary each acknowledged write reached.
/// An insert whose answer takes longer than <see cref="GiveUpAfter"/> is abandoned and counts as failed (its outcome
/// unknown, so it is never counted as acknowledged). It is abandoned, not cancelled: PostgreSQL answers a cancelled
/// wait for the synchronous standby with success (the commit stays, local only, with a WARNING), so a client whose
/// statement timeout is shorter than the fence time gets acknowledgments a failover can lose; the first runs of the
/// partition test saw exactly that with a 3 s command timeout.
/// </summary>
public sealed class SqlWriteLoad : IAsyncDisposable
{
    public const string Table = "partition_writes";
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(5);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly IReadOnlyDictionary<string, string> _siteByAddress;
    private readonly ConcurrentQueue<AcknowledgedWrite> _acknowledged = new();
    private readonly ConcurrentQueue<FailedWrite> _failed = new();
    private readonly List<NpgsqlDataSource> _sources = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];

    /// <param name="endpoints">Gateway id and the connection string of its write endpoint.</param>
    /// <param name="siteByAddress">Each database server's address and its site.</param>
    public SqlWriteLoad(IReadOnlyDictionary<string, string> endpoints, IReadOnlyDictionary<string, string> siteByAddress, int workersPerGateway = 2)
    {
        _siteByAddress = siteByAddress;
        foreach (var (gateway, connectionString) in endpoints)
        {
            var source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
            {
                Pooling = true,
                // Room for the connections of abandoned inserts, until the gateway cuts them.
                MaxPoolSize = workersPerGateway * 4,
                Timeout = 3,
                // No command timeout: it would cancel (see above).
                CommandTimeout = 0,
            }.ConnectionString);
            _sources.Add(source);
            for (var i = 0; i < workersPerGateway; i++)
            {
                _workers.Add(Task.Run(() => WriteAsync(gateway, source)));
            }
        }
    }

    public static string CreateTable => $"CREATE TABLE {Table} (id uuid PRIMARY KEY, gateway text NOT NULL, sent_ms bigint NOT NULL)";

    /// <summary>The load's clock: every logged time is on it.</summary>
    public TimeSpan Now => _clock.Elapsed;

    public IReadOnlyList<AcknowledgedWrite> Acknowledged => [.. _acknowledged];
    public IReadOnlyList<FailedWrite> Failed => [.. _failed];

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    /// <summary>The failures grouped by gateway and reason, for the test's output.</summary>
    public string FailureReasons() =>
        string.Join("; ", Failed.GroupBy(f => (f.Gateway, f.Reason)).OrderBy(g => g.Key).Select(g => $"{g.Key.Gateway} {g.Key.Reason}: {g.Count()}"));

    private async Task WriteAsync(string gateway, NpgsqlDataSource source)
    {
        while (!_stop.IsCancellationRequested)
        {
            var id = Guid.NewGuid();
            var sent = Now;
            try
            {
                var server = await InsertAsync(source, id, gateway, sent).WaitAsync(GiveUpAfter);
                _acknowledged.Enqueue(new AcknowledgedWrite(id, gateway, _siteByAddress.GetValueOrDefault(server, server), sent, Now));
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException or IOException or InvalidOperationException)
            {
                _failed.Enqueue(new FailedWrite(gateway, sent, Now, e is PostgresException pg ? pg.SqlState : e.GetType().Name));
                await Task.Delay(50);
            }

            await Task.Delay(10);
        }
    }

    private static async Task<string> InsertAsync(NpgsqlDataSource source, Guid id, string gateway, TimeSpan sent)
    {
        await using var connection = await source.OpenConnectionAsync();
        await using var insert = new NpgsqlCommand($"INSERT INTO {Table} (id, gateway, sent_ms) VALUES ($1, $2, $3) RETURNING host(inet_server_addr())", connection);
        insert.Parameters.AddWithValue(id);
        insert.Parameters.AddWithValue(gateway);
        insert.Parameters.AddWithValue((long)sent.TotalMilliseconds);
        return (string)(await insert.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }

        foreach (var source in _sources)
        {
            await source.DisposeAsync();
        }

        _stop.Dispose();
    }
}
