using Gateway.Configuration;
using Gateway.Coordinator.Admin;

namespace Gateway.Tests.Coordinator.Admin;

public sealed class AdminTokenTests : IDisposable
{
    private readonly string _file = Path.GetTempFileName();

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void The_token_from_the_file_matches_without_its_trailing_newline()
    {
        File.WriteAllText(_file, "s3cret\n");
        var token = AdminToken.Load(new AdminOptions { TokenFile = _file });

        Assert.True(token.Matches("s3cret"));
        Assert.False(token.Matches("s3cret2"));
        Assert.False(token.Matches(""));
        Assert.False(token.Matches(null));
    }

    [Theory]
    [InlineData("Bearer abc", "abc")]
    [InlineData("bearer abc ", "abc")]
    [InlineData("Basic abc", null)]
    [InlineData(null, null)]
    public void The_bearer_token_is_read_from_the_authorization_header(string? header, string? expected) =>
        Assert.Equal(expected, AdminToken.FromAuthorizationHeader(header));
}
