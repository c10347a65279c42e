using Gateway.Database;

namespace Gateway.Tests.Database;

public sealed class PgStartupTests
{
    [Theory]
    [InlineData(8, PgStartup.SslRequestCode, PgStartupKind.PostgreSql)]
    [InlineData(8, PgStartup.GssEncRequestCode, PgStartupKind.PostgreSql)]
    [InlineData(16, PgStartup.CancelRequestCode, PgStartupKind.PostgreSql)]
    [InlineData(41, 196608, PgStartupKind.PostgreSql)] // protocol 3.0
    [InlineData(41, 196610, PgStartupKind.PostgreSql)] // protocol 3.2 (PostgreSQL 18)
    [InlineData(12, PgStartup.SslRequestCode, PgStartupKind.Malformed)]
    [InlineData(int.MaxValue, 196608, PgStartupKind.Malformed)]
    [InlineData(10_001, 196608, PgStartupKind.Malformed)]
    [InlineData(8, 196608, PgStartupKind.Malformed)]
    [InlineData(-5, 196608, PgStartupKind.Malformed)]
    [InlineData(41, 131072, PgStartupKind.Malformed)] // protocol 2.0, gone since PostgreSQL 14
    [InlineData(0x47455420, 0x2f204854, PgStartupKind.Malformed)] // "GET / HT": HTTP on the wrong port
    public void A_first_message_is_classified_by_its_length_and_code(int length, int code, PgStartupKind expected) =>
        Assert.Equal(expected, PgStartup.Classify(length, code));
}
