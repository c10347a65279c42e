using Broker.Deposits;

namespace Broker.Tests.Deposits;

public sealed class PageRequestTests
{
    [Fact]
    public void Defaults_to_the_first_100()
    {
        Assert.True(PageRequest.TryParse(after: null, limit: null, out var page, out _));
        Assert.Equal(new PageRequest(null, 100), page);
    }

    [Fact]
    public void Reads_after_and_limit()
    {
        var after = Guid.CreateVersion7();
        Assert.True(PageRequest.TryParse(after.ToString(), "1000", out var page, out _));
        Assert.Equal(new PageRequest(after, 1000), page);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData("ten")]
    [InlineData("")]
    [InlineData("99999999999999999999")]
    public void Rejects_limits_outside_1_to_1000(string limit)
    {
        Assert.False(PageRequest.TryParse(null, limit, out var page, out var problem));
        Assert.Null(page);
        Assert.Equal("limit must be a whole number from 1 to 1000", problem);
    }

    [Theory]
    [InlineData("not-a-guid")]
    [InlineData("")]
    public void Rejects_an_after_that_is_not_an_id(string after)
    {
        Assert.False(PageRequest.TryParse(after, null, out _, out var problem));
        Assert.StartsWith("after must be", problem);
    }
}
