using System.Buffers.Binary;
using System.Text;

namespace Gateway.Database.Sessions;

/// <summary>
/// A client's StartupMessage as it sent it (repeated byte for byte when the session moves to another node) and its
/// parameters: user, database, application_name, options and the rest.
/// </summary>
public sealed class PgStartupPacket
{
    private PgStartupPacket(byte[] bytes, int protocolVersion, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        Bytes = bytes;
        ProtocolVersion = protocolVersion;
        Parameters = parameters;
    }

    /// <summary>The whole packet, length word included.</summary>
    public byte[] Bytes { get; }

    public int ProtocolVersion { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; }

    public string User => Parameter("user") ?? "";

    /// <summary>The database, which defaults to the user's name.</summary>
    public string Database => Parameter("database") ?? User;

    public string? ApplicationName => Parameter("application_name");

    /// <summary>A replication connection (physical or logical) speaks another protocol after the startup.</summary>
    public bool IsReplication => Parameter("replication") is { } value && !value.Equals("false", StringComparison.OrdinalIgnoreCase)
        && !value.Equals("off", StringComparison.OrdinalIgnoreCase) && value != "0" && !value.Equals("no", StringComparison.OrdinalIgnoreCase);

    public string? Parameter(string name) => Parameters.FirstOrDefault(p => p.Key == name) is { Key: not null } found ? found.Value : null;

    /// <summary>Parses a whole startup packet (length word first); null with <paramref name="problem"/> when it is not a valid one.</summary>
    public static PgStartupPacket? Parse(byte[] bytes, out string? problem)
    {
        problem = null;
        if (bytes.Length < 8 || BinaryPrimitives.ReadInt32BigEndian(bytes) != bytes.Length)
        {
            problem = "the startup packet's length does not match its content";
            return null;
        }

        var version = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        if (version >> 16 != 3)
        {
            problem = $"unsupported protocol version {version >> 16}.{version & 0xFFFF}";
            return null;
        }

        var parameters = new List<KeyValuePair<string, string>>();
        ReadOnlySpan<byte> rest = bytes.AsSpan(8);
        while (true)
        {
            if (!PgWire.TryReadCString(rest, out var name, out rest))
            {
                problem = "the startup packet's parameters are not terminated";
                return null;
            }

            if (name.IsEmpty)
            {
                break;
            }

            if (!PgWire.TryReadCString(rest, out var value, out rest))
            {
                problem = "a startup parameter has no value";
                return null;
            }

            parameters.Add(new(Encoding.UTF8.GetString(name), Encoding.UTF8.GetString(value)));
        }

        if (!rest.IsEmpty)
        {
            problem = "bytes after the startup packet's parameters";
            return null;
        }

        if (!parameters.Any(p => p.Key == "user" && p.Value.Length > 0))
        {
            problem = "no user name in the startup packet";
            return null;
        }

        return new PgStartupPacket(bytes, version, parameters);
    }

    /// <summary>Builds a version 3.0 startup packet (tests and tools).</summary>
    public static byte[] Build(params (string Name, string Value)[] parameters)
    {
        var body = new MemoryStream();
        Span<byte> version = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(version, PgWire.ProtocolVersion3);
        body.Write(version);
        foreach (var (name, value) in parameters)
        {
            body.Write(PgWire.CString(name));
            body.Write(PgWire.CString(value));
        }

        body.WriteByte(0);
        return PgWire.Untyped(body.ToArray());
    }
}
