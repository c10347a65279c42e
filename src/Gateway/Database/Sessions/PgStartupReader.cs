using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;

namespace Gateway.Database.Sessions;

/// <summary>A movable session's first words: a startup packet, a cancel request, or why neither (null for a client that left or stayed silent).</summary>
public sealed record PgFirstMessage(PgStartupPacket? Startup = null, (int ProcessId, int Secret)? Cancel = null, string? Problem = null);

/// <summary>
/// Reads a client's startup as the gateway itself must in Movable mode: an SSL or GSS encryption request is
/// declined ('N': the gateway reads the protocol, so it cannot be a tunnel for TLS), then the startup packet or a
/// cancel request is read whole, within the startup timeout.
/// </summary>
public static class PgStartupReader
{
    /// <summary>A client asks for encryption at most once each for SSL and GSS before its startup packet.</summary>
    private const int MaxEncryptionRequests = 2;

    public static async Task<PgFirstMessage> ReadAsync(IDuplexPipe client, TimeSpan timeout, CancellationToken clientClosed)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(clientClosed);
        deadline.CancelAfter(timeout);
        try
        {
            for (var requests = 0; ; requests++)
            {
                var packet = await ReadPacketAsync(client.Input, deadline.Token);
                if (packet is null)
                {
                    return new PgFirstMessage(Problem: "the startup packet is malformed or incomplete");
                }

                var code = BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(4));
                switch (code)
                {
                    case PgStartup.SslRequestCode or PgStartup.GssEncRequestCode when packet.Length == 8 && requests < MaxEncryptionRequests:
                        await client.Output.WriteAsync("N"u8.ToArray(), deadline.Token);
                        continue;
                    case PgStartup.CancelRequestCode when packet.Length == 16:
                        return new PgFirstMessage(Cancel: (BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(8)), BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(12))));
                    default:
                        var startup = PgStartupPacket.Parse(packet, out var problem);
                        return startup is null ? new PgFirstMessage(Problem: problem) : new PgFirstMessage(startup);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            return new PgFirstMessage();
        }
    }

    /// <summary>One length-prefixed packet, whole; null when its length is out of PostgreSQL's bounds or the client stops short.</summary>
    private static async Task<byte[]?> ReadPacketAsync(PipeReader input, CancellationToken cancellation)
    {
        var header = await input.ReadAtLeastAsync(4, cancellation);
        if (header.Buffer.Length < 4)
        {
            input.AdvanceTo(header.Buffer.End);
            return null;
        }

        Span<byte> lengthBytes = stackalloc byte[4];
        header.Buffer.Slice(0, 4).CopyTo(lengthBytes);
        var length = BinaryPrimitives.ReadInt32BigEndian(lengthBytes);
        input.AdvanceTo(header.Buffer.Start);
        if (length is < 8 or > PgStartup.MaxStartupPacket)
        {
            return null;
        }

        var whole = await input.ReadAtLeastAsync(length, cancellation);
        if (whole.Buffer.Length < length)
        {
            input.AdvanceTo(whole.Buffer.End);
            return null;
        }

        var packet = whole.Buffer.Slice(0, length).ToArray();
        input.AdvanceTo(whole.Buffer.GetPosition(length));
        return packet;
    }
}
