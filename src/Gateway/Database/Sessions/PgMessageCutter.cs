using System.Buffers;

namespace Gateway.Database.Sessions;

public enum PgCutKind
{
    /// <summary>A whole message starts the buffer: inspect it, then pass it on.</summary>
    Message,

    /// <summary>Bytes of a message too big to hold whole (a bulk row, a long COPY line): pass them on as they come.</summary>
    Piece,

    /// <summary>The buffer ends inside a header or a message small enough to wait for.</summary>
    NeedMore,

    /// <summary>Not the protocol: an unknown message type, or a length below 4 or beyond what its type allows.</summary>
    Violation,
}

/// <summary>What starts a buffer: <see cref="Length"/> bytes of one message, or a piece of a big one.</summary>
public readonly record struct PgCut(PgCutKind Kind, byte Type, long Length, bool FirstPiece = false, string? Violation = null);

/// <summary>
/// Cuts one direction of a session into messages. Messages up to <paramref name="inspectLimit"/> bytes are handed
/// out whole (the transport's buffer holds them); a longer one is handed out in pieces as its bytes arrive, so a
/// gigabyte COPY row never sits in memory. Which types are valid, and how long each may be, is the direction's
/// rule (<see cref="PgWire.IsFrontendType"/> and <see cref="PgWire.MaxFrontendLength"/> for clients).
/// </summary>
public sealed class PgMessageCutter(int inspectLimit, Func<byte, bool> isValidType, Func<byte, int> maxLength)
{
    /// <summary>How much of a big message's start its first piece holds at least (a Bind's names are there).</summary>
    public const int PeekLength = 1024;

    private long _remaining;
    private byte _bigType;

    public static PgMessageCutter ForClient(int inspectLimit) => new(inspectLimit, PgWire.IsFrontendType, PgWire.MaxFrontendLength);

    public static PgMessageCutter ForServer(int inspectLimit) => new(inspectLimit, PgWire.IsBackendType, _ => PgWire.MaxMessageLength);

    /// <summary>True between the pieces of a big message: no message boundary here.</summary>
    public bool InsideMessage => _remaining > 0;

    /// <summary>Looks at the start of <paramref name="buffer"/>; the caller then consumes <see cref="PgCut.Length"/> bytes (for Message and Piece).</summary>
    public PgCut Next(in ReadOnlySequence<byte> buffer)
    {
        if (_remaining > 0)
        {
            if (buffer.IsEmpty)
            {
                return new(PgCutKind.NeedMore, _bigType, 0);
            }

            var piece = Math.Min(_remaining, buffer.Length);
            _remaining -= piece;
            return new(PgCutKind.Piece, _bigType, piece);
        }

        if (!PgWire.TryReadHeader(buffer, out var type, out var length))
        {
            return new(PgCutKind.NeedMore, 0, 0);
        }

        if (!isValidType(type))
        {
            return new(PgCutKind.Violation, type, 0, Violation: $"unknown message type 0x{type:x2}");
        }

        if (length < 4 || length > maxLength(type))
        {
            return new(PgCutKind.Violation, type, 0, Violation: $"message '{(char)type}' declares an invalid length {length}");
        }

        var total = 1L + length;
        if (total <= inspectLimit)
        {
            return buffer.Length >= total ? new(PgCutKind.Message, type, total) : new(PgCutKind.NeedMore, type, 0);
        }

        if (buffer.Length < Math.Min(total, PeekLength))
        {
            return new(PgCutKind.NeedMore, type, 0);
        }

        // Too big to hold: the first piece carries the header and whatever of the body has arrived, at least PeekLength.
        var first = Math.Min(total, buffer.Length);
        _remaining = total - first;
        _bigType = type;
        return new(PgCutKind.Piece, type, first, FirstPiece: true);
    }
}
