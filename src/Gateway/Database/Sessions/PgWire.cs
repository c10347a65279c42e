using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gateway.Database.Sessions;

/// <summary>
/// The PostgreSQL version 3 wire format as far as the gateway reads and writes it: message headers, the codes of
/// the messages it acts on, and builders for the few messages it sends itself.
/// </summary>
public static class PgWire
{
    /// <summary>Type byte and length word.</summary>
    public const int HeaderLength = 5;

    /// <summary>PostgreSQL's own bound on a message (PQ_LARGE_MESSAGE_LIMIT, 1 GB - 1).</summary>
    public const int MaxMessageLength = 0x3FFF_FFFF;

    /// <summary>PostgreSQL's bound on messages that carry no statement or data (PQ_SMALL_MESSAGE_LIMIT).</summary>
    public const int MaxSmallMessageLength = 10_000;

    public const int ProtocolVersion3 = 3 << 16;

    public static class Frontend
    {
        public const byte Bind = (byte)'B';
        public const byte Close = (byte)'C';
        public const byte CopyData = (byte)'d';
        public const byte CopyDone = (byte)'c';
        public const byte CopyFail = (byte)'f';
        public const byte Describe = (byte)'D';
        public const byte Execute = (byte)'E';
        public const byte Flush = (byte)'H';
        public const byte FunctionCall = (byte)'F';
        public const byte Parse = (byte)'P';
        public const byte Password = (byte)'p';
        public const byte Query = (byte)'Q';
        public const byte Sync = (byte)'S';
        public const byte Terminate = (byte)'X';
    }

    public static class Backend
    {
        public const byte Authentication = (byte)'R';
        public const byte BackendKeyData = (byte)'K';
        public const byte BindComplete = (byte)'2';
        public const byte CloseComplete = (byte)'3';
        public const byte CommandComplete = (byte)'C';
        public const byte CopyData = (byte)'d';
        public const byte CopyDone = (byte)'c';
        public const byte CopyInResponse = (byte)'G';
        public const byte CopyOutResponse = (byte)'H';
        public const byte CopyBothResponse = (byte)'W';
        public const byte DataRow = (byte)'D';
        public const byte EmptyQueryResponse = (byte)'I';
        public const byte ErrorResponse = (byte)'E';
        public const byte FunctionCallResponse = (byte)'V';
        public const byte NegotiateProtocolVersion = (byte)'v';
        public const byte NoData = (byte)'n';
        public const byte NoticeResponse = (byte)'N';
        public const byte NotificationResponse = (byte)'A';
        public const byte ParameterDescription = (byte)'t';
        public const byte ParameterStatus = (byte)'S';
        public const byte ParseComplete = (byte)'1';
        public const byte PortalSuspended = (byte)'s';
        public const byte ReadyForQuery = (byte)'Z';
        public const byte RowDescription = (byte)'T';
    }

    /// <summary>Authentication request codes of the 'R' message.</summary>
    public static class Auth
    {
        public const int Ok = 0;
        public const int CleartextPassword = 3;
        public const int Md5Password = 5;
        public const int Sasl = 10;
        public const int SaslContinue = 11;
        public const int SaslFinal = 12;
    }

    private static readonly SearchValues<byte> FrontendTypes = SearchValues.Create("BCdcfDEHFPpQSX"u8);
    private static readonly SearchValues<byte> BackendTypes = SearchValues.Create("RK23CdcGHWDIEVvnNAtS1sZT"u8);

    public static bool IsFrontendType(byte type) => FrontendTypes.Contains(type);

    public static bool IsBackendType(byte type) => BackendTypes.Contains(type);

    /// <summary>The most a client message of this type may declare, as PostgreSQL bounds it.</summary>
    public static int MaxFrontendLength(byte type) => type switch
    {
        Frontend.Query or Frontend.Parse or Frontend.Bind or Frontend.FunctionCall or Frontend.CopyData or Frontend.Password => MaxMessageLength,
        _ => MaxSmallMessageLength,
    };

    /// <summary>Reads a message header: its type and its length word (which counts itself, not the type byte).</summary>
    public static bool TryReadHeader(in ReadOnlySequence<byte> buffer, out byte type, out int length)
    {
        if (buffer.Length < HeaderLength)
        {
            type = 0;
            length = 0;
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        type = header[0];
        length = BinaryPrimitives.ReadInt32BigEndian(header[1..]);
        return true;
    }

    /// <summary>The body of a whole message (after the header), as one span: copied only when it spans segments.</summary>
    public static ReadOnlySpan<byte> Body(in ReadOnlySequence<byte> message) =>
        message.IsSingleSegment ? message.FirstSpan[HeaderLength..] : message.Slice(HeaderLength).ToArray();

    /// <summary>A NUL-terminated string at the start of <paramref name="bytes"/>; false when there is no NUL.</summary>
    public static bool TryReadCString(ReadOnlySpan<byte> bytes, out ReadOnlySpan<byte> value, out ReadOnlySpan<byte> rest)
    {
        var end = bytes.IndexOf((byte)0);
        if (end < 0)
        {
            value = default;
            rest = default;
            return false;
        }

        value = bytes[..end];
        rest = bytes[(end + 1)..];
        return true;
    }

    public static byte[] Message(byte type, ReadOnlySpan<byte> body)
    {
        var message = new byte[HeaderLength + body.Length];
        message[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + body.Length);
        body.CopyTo(message.AsSpan(HeaderLength));
        return message;
    }

    public static byte[] Query(string sql) => Message(Frontend.Query, CString(sql));

    public static byte[] Terminate() => Message(Frontend.Terminate, []);

    /// <summary>A startup-phase packet without a type byte: length word, then the body.</summary>
    public static byte[] Untyped(ReadOnlySpan<byte> body)
    {
        var packet = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        body.CopyTo(packet.AsSpan(4));
        return packet;
    }

    public static byte[] CancelRequest(int processId, int secret)
    {
        Span<byte> body = stackalloc byte[12];
        BinaryPrimitives.WriteInt32BigEndian(body, PgStartup.CancelRequestCode);
        BinaryPrimitives.WriteInt32BigEndian(body[4..], processId);
        BinaryPrimitives.WriteInt32BigEndian(body[8..], secret);
        return Untyped(body);
    }

    public static byte[] BackendKeyData(int processId, int secret)
    {
        Span<byte> body = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(body, processId);
        BinaryPrimitives.WriteInt32BigEndian(body[4..], secret);
        return Message(Backend.BackendKeyData, body);
    }

    public static byte[] ParameterStatus(string name, string value) => Message(Backend.ParameterStatus, [.. CString(name), .. CString(value)]);

    /// <summary>SASLInitialResponse: the mechanism, then the client-first-message with its length.</summary>
    public static byte[] SaslInitialResponse(string mechanism, ReadOnlySpan<byte> data)
    {
        var name = CString(mechanism);
        var body = new byte[name.Length + 4 + data.Length];
        name.CopyTo(body, 0);
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(name.Length), data.Length);
        data.CopyTo(body.AsSpan(name.Length + 4));
        return Message(Frontend.Password, body);
    }

    public static byte[] SaslResponse(ReadOnlySpan<byte> data) => Message(Frontend.Password, data);

    public static byte[] PasswordMessage(string password) => Message(Frontend.Password, CString(password));

    public static byte[] CString(string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }

    /// <summary>The fields of an ErrorResponse or NoticeResponse body, by field code ('S' severity, 'C' SQLSTATE, 'M' message, ...).</summary>
    public static Dictionary<char, string> Fields(ReadOnlySpan<byte> body)
    {
        var fields = new Dictionary<char, string>();
        while (body.Length > 1 && body[0] != 0)
        {
            var code = (char)body[0];
            if (!TryReadCString(body[1..], out var value, out body))
            {
                break;
            }

            fields[code] = Encoding.UTF8.GetString(value);
        }

        return fields;
    }
}
