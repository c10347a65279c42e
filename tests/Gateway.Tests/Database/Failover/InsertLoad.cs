using System.Collections.Concurrent;
using Npgsql;

namespace Gateway.Tests.Database.Failover;

/// <summary>
/// Clients inserting unique ids through the gateway's write endpoint, each on its own connection, reconnecting
/// after any error; every acknowledged id is logged with the time of its acknowledgment.
/// </summary>
public sealed class InsertLoad
{
    private readonly string _connectionString;
    private readonly ConcurrentDictionary<long, (DateTimeOffset At, int ServerPort)> _acknowledged = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private long _nextId;

    public InsertLoad(string connectionString) => _connectionString = connectionString;

    /// <summary>Every acknowledged id, when it was acknowledged and by which server (its port).</summary>
    public IReadOnlyDictionary<long, (DateTimeOffset At, int ServerPort)> Acknowledged => _acknowledged;
    public IReadOnlyCollection<string> Errors => _errors;

    public static async Task CreateTableAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS acks (id bigint PRIMARY KEY, payload text, at timestamptz DEFAULT clock_timestamp())", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task RunAsync(int clients, CancellationToken stop) =>
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(() => ClientAsync(stop))));

    private async Task ClientAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                await connection.OpenAsync(stop);
                while (!stop.IsCancellationRequested)
                {
                    var id = Interlocked.Increment(ref _nextId);
                    await using var command = new NpgsqlCommand("INSERT INTO acks (id, payload) VALUES (@id, repeat('x', 100)) RETURNING inet_server_port()", connection);
                    command.Parameters.AddWithValue("id", id);
                    var port = (int)(await command.ExecuteScalarAsync(stop))!;
                    _acknowledged[id] = (DateTimeOffset.UtcNow, port);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                _errors.Enqueue(e.Message);
                await Task.Delay(20, CancellationToken.None);
            }
        }
    }

    /// <summary>The ids in the acks table of one node, read directly (not through the gateway).</summary>
    public static async Task<HashSet<long>> IdsOnAsync(string nodeConnectionString)
    {
        await using var connection = new NpgsqlConnection(nodeConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id FROM acks", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new HashSet<long>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    /// <summary>Time from <paramref name="after"/> to the first acknowledgment by the server on <paramref name="serverPort"/>, or null.</summary>
    public TimeSpan? FirstAcknowledgmentBy(int serverPort, DateTimeOffset after) =>
        _acknowledged.Values.Where(ack => ack.ServerPort == serverPort && ack.At > after).Select(ack => ack.At).Order().Cast<DateTimeOffset?>().FirstOrDefault() is { } first
            ? first - after
            : null;

    public double RatePerSecond(TimeSpan over) => _acknowledged.Count / over.TotalSeconds;
}
