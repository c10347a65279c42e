using System.Buffers.Binary;
using System.Text;
using Gateway.Database;

namespace Gateway.Tests.Database;

public sealed class PgRefusalTests
{
    [Fact]
    public void The_error_response_is_a_well_formed_protocol_message()
    {
        var packet = PgRefusal.ErrorResponse("57P03", "gateway: no primary");

        Assert.Equal((byte)'E', packet[0]);
        Assert.Equal(packet.Length - 1, BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(1)));
        var fields = Encoding.UTF8.GetString(packet, 5, packet.Length - 5).Split('\0');
        Assert.Equal(["SFATAL", "VFATAL", "C57P03", "Mgateway: no primary", "", ""], fields);
    }
}
