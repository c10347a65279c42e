using System.Buffers.Binary;
using System.Net.Sockets;
using Gateway.Database.Sessions;

namespace Gateway.Tests.Database.Sessions;

/// <summary>A client speaking the wire protocol by hand (trust login), to send what no driver would.</summary>
public sealed class RawPgClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawPgClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Connects and logs in as postgres; returns once the server is ready for a query.</summary>
    public static async Task<RawPgClient> LoginAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        var client = new RawPgClient(tcp);
        await client.SendAsync(PgStartupPacket.Build(("user", "postgres"), ("database", "postgres"), ("application_name", "raw")));
        await client.ReadUntilReadyAsync();
        return client;
    }

    public Task SendAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    /// <summary>The messages up to and including ReadyForQuery, or up to the end of the connection.</summary>
    public async Task<List<(char Type, byte[] Body)>> ReadUntilReadyAsync(TimeSpan? within = null)
    {
        using var bound = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(20));
        var messages = new List<(char, byte[])>();
        var header = new byte[5];
        while (true)
        {
            if (!await ReadExactlyAsync(header, bound.Token))
            {
                return messages;
            }

            var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4];
            if (!await ReadExactlyAsync(body, bound.Token))
            {
                return messages;
            }

            messages.Add(((char)header[0], body));
            if (header[0] == 'Z')
            {
                return messages;
            }
        }
    }

    /// <summary>True once the server closed the connection (read returns nothing or the socket is reset).</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan within)
    {
        using var bound = new CancellationTokenSource(within);
        try
        {
            var buffer = new byte[256];
            while (await _stream.ReadAsync(buffer, bound.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellation)
    {
        try
        {
            await _stream.ReadExactlyAsync(buffer, cancellation);
            return true;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
