using System.Buffers.Binary;
using System.Text;
using Gateway.Database.Sessions;

namespace Gateway.Tests.Database.Sessions;

/// <summary>Protocol messages as a client or server would send them, for the tracker's tests.</summary>
public static class PgMessages
{
    public static byte[] Body(byte[] message) => message[PgWire.HeaderLength..];

    public static byte[] Query(string sql) => PgWire.Query(sql);

    public static byte[] Parse(string name, string sql) =>
        PgWire.Message(PgWire.Frontend.Parse, [.. PgWire.CString(name), .. PgWire.CString(sql), 0, 0]);

    public static byte[] Bind(string statement, string portal = "") =>
        PgWire.Message(PgWire.Frontend.Bind, [.. PgWire.CString(portal), .. PgWire.CString(statement), 0, 0, 0, 0, 0, 0]);

    public static byte[] DescribeStatement(string name) => PgWire.Message(PgWire.Frontend.Describe, [(byte)'S', .. PgWire.CString(name)]);

    public static byte[] CloseStatement(string name) => PgWire.Message(PgWire.Frontend.Close, [(byte)'S', .. PgWire.CString(name)]);

    public static byte[] Execute() => PgWire.Message(PgWire.Frontend.Execute, [0, 0, 0, 0, 0]);

    public static byte[] Sync() => PgWire.Message(PgWire.Frontend.Sync, []);

    public static byte[] ReadyForQuery(char status) => PgWire.Message(PgWire.Backend.ReadyForQuery, [(byte)status]);

    public static byte[] ParseComplete() => PgWire.Message(PgWire.Backend.ParseComplete, []);

    public static byte[] CloseComplete() => PgWire.Message(PgWire.Backend.CloseComplete, []);

    public static byte[] CommandComplete(string tag) => PgWire.Message(PgWire.Backend.CommandComplete, PgWire.CString(tag));

    public static byte[] Error(string sqlState = "42P01") =>
        PgWire.Message(PgWire.Backend.ErrorResponse, [(byte)'S', .. PgWire.CString("ERROR"), (byte)'C', .. PgWire.CString(sqlState), (byte)'M', .. PgWire.CString("failed"), 0]);

    public static byte[] Header(byte type, int length)
    {
        var header = new byte[5];
        header[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1), length);
        return header;
    }

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
