using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;

namespace Gateway.Database;

/// <summary>
/// Turns a refused database connection into an error the client shows ("FATAL: gateway: ..."), instead of a bare
/// closed socket: it answers the SSL/GSS negotiation with 'N', reads the startup packet and sends an ErrorResponse
/// in the PostgreSQL wire protocol. Everything bounded: a client that dawdles is simply closed.
/// </summary>
public static class PgRefusal
{
    private const int SslRequestCode = PgStartup.SslRequestCode;
    private const int GssEncRequestCode = PgStartup.GssEncRequestCode;
    private const int CancelRequestCode = PgStartup.CancelRequestCode;
    private const int MaxStartupPacket = PgStartup.MaxStartupPacket;

    /// <summary>SQLSTATE 57P03 cannot_connect_now: drivers treat it as transient, so their retries pick up the next primary.</summary>
    public const string CannotConnectNow = "57P03";

    /// <summary>SQLSTATE 53300 too_many_connections, what PostgreSQL itself answers past max_connections.</summary>
    public const string TooManyConnections = "53300";

    public static Task RefuseAsync(PipeReader input, PipeWriter output, string message, TimeSpan timeout) =>
        RefuseAsync(input, output, CannotConnectNow, message, timeout);

    public static async Task RefuseAsync(PipeReader input, PipeWriter output, string sqlState, string message, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            var code = await ReadStartupCodeAsync(input, deadline.Token);
            if (code is SslRequestCode or GssEncRequestCode)
            {
                await output.WriteAsync("N"u8.ToArray(), deadline.Token);
                code = await ReadStartupCodeAsync(input, deadline.Token);
            }

            if (code is not (CancelRequestCode or null))
            {
                await output.WriteAsync(ErrorResponse(sqlState, "gateway: " + message), deadline.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The client went away or sent something that is not PostgreSQL: there is nobody to tell.
        }
    }

    /// <summary>Reads one length-prefixed startup packet and returns its code (protocol version or request code), or null if it is malformed.</summary>
    private static async Task<int?> ReadStartupCodeAsync(PipeReader input, CancellationToken cancellation)
    {
        var header = await input.ReadAtLeastAsync(8, cancellation);
        if (header.Buffer.Length < 8)
        {
            return null;
        }

        var length = ReadInt32(header.Buffer.Slice(0, 4));
        var code = ReadInt32(header.Buffer.Slice(4, 4));
        input.AdvanceTo(header.Buffer.Start);
        if (length is < 8 or > MaxStartupPacket)
        {
            return null;
        }

        var packet = await input.ReadAtLeastAsync(length, cancellation);
        if (packet.Buffer.Length < length)
        {
            return null;
        }

        input.AdvanceTo(packet.Buffer.GetPosition(length));
        return code;
    }

    private static int ReadInt32(ReadOnlySequence<byte> bytes)
    {
        Span<byte> buffer = stackalloc byte[4];
        bytes.CopyTo(buffer);
        return BinaryPrimitives.ReadInt32BigEndian(buffer);
    }

    public static byte[] ErrorResponse(string sqlState, string message)
    {
        var body = new MemoryStream();
        foreach (var (field, value) in new[] { ('S', "FATAL"), ('V', "FATAL"), ('C', sqlState), ('M', message) })
        {
            body.WriteByte((byte)field);
            body.Write(Encoding.UTF8.GetBytes(value));
            body.WriteByte(0);
        }

        body.WriteByte(0);
        var packet = new byte[1 + 4 + body.Length];
        packet[0] = (byte)'E';
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(1), 4 + (int)body.Length);
        body.ToArray().CopyTo(packet, 5);
        return packet;
    }
}
