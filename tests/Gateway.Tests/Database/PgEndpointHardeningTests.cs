using System.Buffers.Binary;
using System.Net.Sockets;
using Gateway.Database;
using Gateway.Tests.Database.Failover;
using Gateway.Tests.Hardening;
using Npgsql;

namespace Gateway.Tests.Database;

/// <summary>The gateway with real PostgreSQL behind small PG endpoint limits: 3 connections per endpoint, 1 s to send a first message.</summary>
public sealed class PgEndpointLimitsFixture : IAsyncLifetime
{
    public const int MaxConnections = 3;

    public DatabaseFailoverFixture Database { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Database = await DatabaseFailoverFixture.StartAsync(values =>
        {
            values["Gateway:Database:MaxConnectionsPerEndpoint"] = MaxConnections.ToString();
            values["Gateway:Database:StartupTimeout"] = "00:00:01";
        });

    public async Task DisposeAsync() => await Database.DisposeAsync();
}

/// <summary>
/// Hostile clients on the PG endpoints: garbage, silence and floods are closed or refused, never forwarded, and a
/// session that was open all along keeps working.
/// </summary>
[Integration]
public sealed class PgEndpointHardeningTests(PgEndpointLimitsFixture fixture) : IClassFixture<PgEndpointLimitsFixture>
{
    private DatabaseFailoverFixture Database => fixture.Database;

    private int WritePort => Database.Settings.PgWritePort;

    private static byte[] Header(int length, int code)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(bytes, length);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), code);
        return bytes;
    }

    public static TheoryData<string> GarbageNames() => new() { "random-bytes", "huge-length", "http-request", "negative-length", "ssl-request-of-wrong-length" };

    private static byte[] Garbage(string name) => name switch
    {
        "random-bytes" => RandomBytes(),
        "huge-length" => [.. Header(int.MaxValue, 196608), .. new byte[64]],
        "http-request" => "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(),
        "negative-length" => Header(-1, 196608),
        "ssl-request-of-wrong-length" => [.. Header(16, PgStartup.SslRequestCode), .. new byte[8]],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static byte[] RandomBytes()
    {
        var bytes = new byte[512];
        new Random(55315).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [MemberData(nameof(GarbageNames))]
    public async Task Garbage_as_a_first_message_is_closed_without_reaching_a_node_or_disturbing_an_open_session(string name)
    {
        await using var session = await OpenAsync(Database.WriteEndpoint());
        var nodeLogBefore = await NodeLogLinesAsync();

        var exchange = await RawHttp.SendAsync(WritePort, Garbage(name));

        Assert.True(exchange.ClosedByServer && exchange.Text.Length == 0, $"expected a silent close; got {exchange}");
        Assert.Equal(1, await ScalarAsync(session, "select 1"));
        // PostgreSQL logs every malformed startup packet it receives ("invalid length of startup packet" and the like).
        Assert.Equal(nodeLogBefore, await NodeLogLinesAsync());
        await using var fresh = await OpenAsync(Database.WriteEndpoint());
        Assert.Equal(1, await ScalarAsync(fresh, "select 1"));
    }

    /// <summary>After an SSLRequest the node answers (here 'N', no TLS) and what follows is the node's to judge: it closes on garbage itself.</summary>
    [Fact]
    public async Task An_ssl_request_then_garbage_is_answered_by_the_node_and_closed_without_disturbing_an_open_session()
    {
        await using var session = await OpenAsync(Database.WriteEndpoint());
        var nodeLogBefore = await NodeLogLinesAsync();

        var exchange = await RawHttp.SendAsync(WritePort, [.. Header(8, PgStartup.SslRequestCode), .. RandomBytes()]);

        Assert.True(exchange.ClosedByServer && exchange.Text.StartsWith('N'), $"expected 'N' then a close; got {exchange}");
        Assert.Equal(1, await ScalarAsync(session, "select 1"));
        // The node did see this garbage, and logged it: what the other tests' unchanged log count rests on.
        Assert.True(await NodeLogLinesAsync() > nodeLogBefore, "the node did not log the garbage it received");
    }

    [Fact]
    public async Task A_client_that_sends_nothing_or_half_a_header_is_closed_after_the_startup_timeout()
    {
        using var silent = await RawHttp.ConnectAsync(WritePort);
        using var partial = await RawHttp.ConnectAsync(WritePort);
        await partial.GetStream().WriteAsync(Header(41, 196608).AsMemory(0, 5));

        var silentEnd = RawHttp.ReadUntilClosedAsync(silent.GetStream());
        var partialEnd = RawHttp.ReadUntilClosedAsync(partial.GetStream());

        Assert.True((await silentEnd).ClosedByServer, "a silent client stayed connected");
        Assert.True((await partialEnd).ClosedByServer, "a client that sent half a header stayed connected");
    }

    [Fact]
    public async Task One_connection_over_the_endpoint_limit_gets_too_many_connections_and_a_freed_slot_is_usable_again()
    {
        var open = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < PgEndpointLimitsFixture.MaxConnections; i++)
            {
                open.Add(await OpenAsync(Database.WriteEndpoint()));
            }

            var refused = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(Database.WriteEndpoint()));
            Assert.Equal(PgRefusal.TooManyConnections, refused.SqlState);
            Assert.Contains("too many connections to the write endpoint", refused.MessageText);

            // The limit is per endpoint: the read endpoint still takes clients.
            await using (var read = await OpenAsync(Database.ReadEndpoint()))
            {
                Assert.Equal(1, await ScalarAsync(read, "select 1"));
            }

            await open[0].DisposeAsync();
            open.RemoveAt(0);
            await using var again = await OpenWhenAdmittedAsync();
            Assert.Equal(1, await ScalarAsync(again, "select 1"));
            Assert.All(open, connection => Assert.Equal(System.Data.ConnectionState.Open, connection.State));
        }
        finally
        {
            foreach (var connection in open)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>A closed session frees its slot when the gateway notices the close; retry briefly on 53300 only.</summary>
    private async Task<NpgsqlConnection> OpenWhenAdmittedAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await OpenAsync(Database.WriteEndpoint());
            }
            catch (PostgresException e) when (e.SqlState == PgRefusal.TooManyConnections && attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<int> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>How many complaints about a malformed session start the node has logged so far.</summary>
    private async Task<int> NodeLogLinesAsync()
    {
        // Give the postmaster a moment to write what it may have received.
        await Task.Delay(200);
        return File.ReadLines(Database.Postgres.Primary.LogFile).Count(line => NodeComplaints.Any(complaint => line.Contains(complaint, StringComparison.Ordinal)));
    }

    // What PostgreSQL 15 logs for a session start it cannot use (ProcessStartupPacket).
    private static readonly string[] NodeComplaints =
        ["startup packet", "unsupported frontend protocol", "unencrypted data after SSL request", "unexpected EOF", "invalid"];
}
