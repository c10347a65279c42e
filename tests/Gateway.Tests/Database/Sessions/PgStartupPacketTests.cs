using System.Buffers.Binary;
using Gateway.Database.Sessions;

namespace Gateway.Tests.Database.Sessions;

public sealed class PgStartupPacketTests
{
    [Fact]
    public void A_startup_packet_is_kept_whole_with_its_parameters_in_order()
    {
        var bytes = PgStartupPacket.Build(("user", "app"), ("database", "shop"), ("application_name", "worker"), ("options", "-c search_path=x"));

        var packet = PgStartupPacket.Parse(bytes, out var problem);

        Assert.Null(problem);
        Assert.Equal(bytes, packet!.Bytes);
        Assert.Equal(("app", "shop", "worker"), (packet.User, packet.Database, packet.ApplicationName));
        Assert.Equal(["user", "database", "application_name", "options"], packet.Parameters.Select(p => p.Key));
        Assert.False(packet.IsReplication);
    }

    [Fact]
    public void The_database_defaults_to_the_user()
    {
        Assert.Equal("app", PgStartupPacket.Parse(PgStartupPacket.Build(("user", "app")), out _)!.Database);
    }

    public static TheoryData<string, byte[]> Broken()
    {
        var valid = PgStartupPacket.Build(("user", "app"));
        var version2 = valid.ToArray();
        BinaryPrimitives.WriteInt32BigEndian(version2.AsSpan(4), 2 << 16);
        var unterminated = valid[..^1];
        BinaryPrimitives.WriteInt32BigEndian(unterminated, unterminated.Length);
        return new()
        {
            { "unsupported protocol version 2.0", version2 },
            { "does not match", valid[..^2] },
            { "not terminated", unterminated },
            { "no user name", PgStartupPacket.Build(("database", "x")) },
            { "no value", PgWire.Untyped([0, 3, 0, 0, .. PgWire.CString("user")]) },
        };
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public void A_broken_startup_packet_is_refused_with_the_reason(string reason, byte[] bytes)
    {
        Assert.Null(PgStartupPacket.Parse(bytes, out var problem));
        Assert.Contains(reason, problem);
    }
}
