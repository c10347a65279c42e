using Broker.Deposits;

namespace Broker.Tests.Deposits;

public sealed class DepositNameTests
{
    [Theory]
    [InlineData("report.pdf")]
    [InlineData("a")]
    [InlineData("名前 with spaces and ünïcödé.txt")]
    [InlineData("..")]
    public void Accepts_ordinary_names(string name)
    {
        Assert.True(DepositName.IsValid(name, out var problem));
        Assert.Null(problem);
    }

    [Fact]
    public void Accepts_exactly_255_characters() => Assert.True(DepositName.IsValid(new string('x', 255), out _));

    [Theory]
    [InlineData(null, "name is required")]
    [InlineData("", "name must be 1 to 255 characters long")]
    [InlineData("dir/file", "name must not contain '/'")]
    [InlineData("nul\0byte", "name must not contain control characters")]
    [InlineData("line\nbreak", "name must not contain control characters")]
    [InlineData("escape\u001b[31m", "name must not contain control characters")]
    [InlineData("del\u007f", "name must not contain control characters")]
    public void Rejects_with_a_reason(string? name, string expectedProblem)
    {
        Assert.False(DepositName.IsValid(name, out var problem));
        Assert.Equal(expectedProblem, problem);
    }

    [Fact]
    public void Rejects_256_characters()
    {
        Assert.False(DepositName.IsValid(new string('x', 256), out var problem));
        Assert.Contains("255", problem);
    }
}
