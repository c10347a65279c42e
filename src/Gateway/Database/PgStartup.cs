using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace Gateway.Database;

/// <summary>What a PG endpoint client's first message is: the only part of the protocol the gateway reads itself.</summary>
public enum PgStartupKind
{
    /// <summary>A StartupMessage, SSLRequest, GSSENCRequest or CancelRequest: forwarded.</summary>
    PostgreSql,

    /// <summary>Not the start of a PostgreSQL session (wrong length or code): closed, the node never sees it.</summary>
    Malformed,

    /// <summary>Nothing complete within the startup timeout: closed.</summary>
    TimedOut,

    /// <summary>The client went away first.</summary>
    Closed,
}

/// <summary>
/// Checks a client's first message before any node is chosen or connected to, so a port scanner, an HTTP client on
/// the wrong port or a client that never speaks costs no node a backend process, and is cut off after a bound.
/// Only the 8-byte header (length and code) is read, and nothing is consumed: the node still gets every byte.
/// </summary>
public static class PgStartup
{
    public const int CancelRequestCode = 80877102;
    public const int SslRequestCode = 80877103;
    public const int GssEncRequestCode = 80877104;

    /// <summary>PostgreSQL's own bound on a startup packet (MAX_STARTUP_PACKET_LENGTH).</summary>
    public const int MaxStartupPacket = 10_000;

    private const int ProtocolMajorVersion3 = 3;

    /// <summary>Classifies a first message from its length and code, as PostgreSQL's ProcessStartupPacket would accept it.</summary>
    public static PgStartupKind Classify(int length, int code) => code switch
    {
        SslRequestCode or GssEncRequestCode => length == 8 ? PgStartupKind.PostgreSql : PgStartupKind.Malformed,
        CancelRequestCode => length >= 12 ? PgStartupKind.PostgreSql : PgStartupKind.Malformed,
        _ when code >> 16 == ProtocolMajorVersion3 && length is > 8 and <= MaxStartupPacket => PgStartupKind.PostgreSql,
        _ => PgStartupKind.Malformed,
    };

    /// <summary>Waits (bounded) for the first message's header and classifies it, leaving the bytes unread.</summary>
    public static async Task<PgStartupKind> InspectAsync(PipeReader input, TimeSpan timeout, CancellationToken clientClosed)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(clientClosed);
        deadline.CancelAfter(timeout);
        ReadResult header;
        try
        {
            header = await input.ReadAtLeastAsync(8, deadline.Token);
        }
        catch (OperationCanceledException)
        {
            return clientClosed.IsCancellationRequested ? PgStartupKind.Closed : PgStartupKind.TimedOut;
        }

        var complete = header.Buffer.Length >= 8;
        var kind = complete
            ? Classify(ReadInt32(header.Buffer.Slice(0, 4)), ReadInt32(header.Buffer.Slice(4, 4)))
            : PgStartupKind.Closed;
        input.AdvanceTo(header.Buffer.Start);
        return kind;
    }

    private static int ReadInt32(ReadOnlySequence<byte> bytes)
    {
        Span<byte> buffer = stackalloc byte[4];
        bytes.CopyTo(buffer);
        return BinaryPrimitives.ReadInt32BigEndian(buffer);
    }
}
