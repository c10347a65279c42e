using Gateway.Cli.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Cli.Tests.Integration;

/// <summary>A whole-site switchover through gatewayctl: the real gateway, a real PostgreSQL pair, real SAN directories and link.</summary>
public sealed class SiteSwitchCommandsTests(ITestOutputHelper output) : RealPairGatewayTests
{
    [Fact]
    public async Task SwitchoverMovesTheActiveSiteAndPrintsProgressThenTheReport()
    {
        var cli = Gateway.Cli;

        var switchover = await cli.RunAsync("switchover", "--to", "B");
        output.WriteLine(switchover.ToString());

        Assert.True(switchover.ExitCode == 0, switchover.ToString());
        var stdout = switchover.Stdout.ReplaceLineEndings("\n");
        var header = stdout.IndexOf("switchover to B: succeeded\n", StringComparison.Ordinal);
        Assert.True(header >= 0, switchover.ToString());
        // Whatever progress the polls caught comes first, each line a step that ended.
        foreach (var line in stdout[..header].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.Matches(@"^  \[\+\d+\.\d\d s\] \S.*: \S.*$", line);
        }

        Assert.Matches(@"\n  \+\d+\.\d\d s +move the database to B +\d+ +site B is primary", stdout);
        Assert.Matches(@"\n  \+\d+\.\d\d s +flip filestore links to B +\d+ +\S", stdout);
        Assert.Contains("\n  database: succeeded\n", stdout);

        var status = await cli.RunAsync("status");
        Assert.StartsWith("epoch 2   active site B   not switching\n", status.Stdout.ReplaceLineEndings("\n"));

        var history = await cli.RunAsync("history");
        Assert.Matches(@"\n2 +Switchover +A +B +\S.* ok +site B is active", history.Stdout);
    }
}
