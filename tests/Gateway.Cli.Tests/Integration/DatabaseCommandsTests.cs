using System.Text.Json.Nodes;
using Gateway.Cli.Tests.Support;

namespace Gateway.Cli.Tests.Integration;

/// <summary>The db commands against the real gateway in front of a real PostgreSQL primary (A) and standby (B).</summary>
public sealed class DatabaseCommandsTests : RealPairGatewayTests
{
    [Fact]
    public async Task PromoteRejoinAndHistoryOfARealPair()
    {
        var cli = Gateway.Cli;

        var before = await cli.RunAsync("status");
        Assert.True(before.ExitCode == 0, before.ToString());
        Assert.Matches(@"\n  A +yes +primary +1 ", before.Stdout);
        Assert.Matches(@"\n  B +yes +standby +1 ", before.Stdout);

        // The primary cannot rejoin: a 409 carrying a report with succeeded=false.
        var refused = await cli.RunAsync("db", "rejoin", "--site", "A");
        Assert.Equal(ExitCodes.Failed, refused.ExitCode);
        Assert.StartsWith("rejoin A as a standby (auto): FAILED\n  site A is the primary; only the other node can rejoin\n", refused.Stdout.ReplaceLineEndings("\n"));
        Assert.Equal("gatewayctl: rejoin A as a standby (auto) failed: site A is the primary; only the other node can rejoin\n", refused.Stderr.ReplaceLineEndings("\n"));
        var refusedJson = await cli.RunAsync("db", "rejoin", "--site", "A", "--json");
        Assert.Equal(ExitCodes.Failed, refusedJson.ExitCode);
        Assert.False((bool)JsonNode.Parse(refusedJson.Stdout)!["succeeded"]!);

        var promote = await cli.RunAsync("db", "promote", "--to", "B");
        Assert.True(promote.ExitCode == 0, promote.ToString());
        Assert.Contains("promote database to B: succeeded\n  site B is primary (epoch 2, planned)", promote.Stdout.ReplaceLineEndings("\n"));
        foreach (var step in new[] { "persist new epoch", "fence A", "demote A", "let B catch up", "promote B", "switch endpoints" })
        {
            Assert.Matches($@"\n  \+\d+\.\d\d s +{step} +\d+ +\S", promote.Stdout);
        }

        Assert.Contains("\n  unreplicated WAL: 0 bytes (exact)\n", promote.Stdout);

        var history = await cli.RunAsync("db", "history");
        Assert.Equal(0, history.ExitCode);
        Assert.Matches(@"\n2 +promotion +A +B +\S.* ok +site B is primary", history.Stdout);

        // The site follows its database to B by itself (a site switch of its own, with progress in the status): let it
        // finish, so the rejoin's output is the rejoin's alone.
        var giveUpAt = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (JsonNode.Parse((await cli.RunAsync("status", "--json")).Stdout) is not { } status
            || (string?)status["activeSite"] != "B" || (bool?)status["switching"] != false)
        {
            Assert.True(DateTime.UtcNow < giveUpAt, "the site did not follow the database to B within 30 s");
            await Task.Delay(200);
        }

        var rejoin = await cli.RunAsync("db", "rejoin", "--site", "A", "--method", "rewind");
        Assert.True(rejoin.ExitCode == 0, rejoin.ToString());
        // A rejoin journals its steps in the status like any operation: progress lines while it runs, then the report.
        var rejoinOutput = rejoin.Stdout.ReplaceLineEndings("\n");
        var reportAt = rejoinOutput.IndexOf("rejoin A as a standby (rewind): succeeded\n  site A is a streaming standby of B again", StringComparison.Ordinal);
        Assert.True(reportAt >= 0, rejoinOutput);
        Assert.All(rejoinOutput[..reportAt].Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.StartsWith("  ", line));
        Assert.Matches(@"\n  \+\d+\.\d\d s +pg_rewind A from B +\d+ +exit 0", rejoin.Stdout);
    }
}
