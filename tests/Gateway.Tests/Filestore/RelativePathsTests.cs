using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class RelativePathsTests
{
    [Fact]
    public void The_ancestors_of_a_path_come_nearest_first_and_stop_below_the_root()
    {
        Assert.Equal(["a/b", "a"], RelativePaths.Ancestors("a/b/c"));
        Assert.Equal(["deep/er/still", "deep/er", "deep"], RelativePaths.Ancestors("deep/er/still/file.pdf"));
    }

    [Theory]
    [InlineData("top")]
    [InlineData("")]
    public void An_entry_at_the_root_has_no_ancestors(string path) => Assert.Empty(RelativePaths.Ancestors(path));
}
