using Gateway.Cli.Connection;
using Gateway.Cli.Tests.Support;
using Gateway.Testing;

namespace Gateway.Cli.Tests.CommandLine;

/// <summary>Command-line mistakes are caught before anything is sent: exit 2 and a message naming the problem.</summary>
public sealed class UsageTests
{
    // Points at a port where nothing listens: a test that got past the parser by mistake would fail with 3, not pass.
    private readonly CliRunner _cli = CliRunner.For($"http://127.0.0.1:{FreePort.Next()}", "unused-token");

    [Theory]
    [InlineData("db promote", "Option '--to' is required")]
    [InlineData("switchover", "Option '--to' is required")]
    [InlineData("failover --force", "Option '--to' is required")]
    [InlineData("db rejoin", "Option '--site' is required")]
    [InlineData("db rejoin --site A --method copy", "--method: 'copy' is not one of auto, rewind, basebackup")]
    [InlineData("drain", "drain: give exactly one of --site or --instance")]
    [InlineData("undrain --site A --instance a1", "undrain: give exactly one of --site or --instance")]
    [InlineData("status --timeout soon", "--timeout: 'soon' is not a positive duration")]
    [InlineData("status --timeout 0s", "--timeout: '0s' is not a positive duration")]
    [InlineData("frobnicate", "Unrecognized command or argument 'frobnicate'")]
    [InlineData("db frobnicate", "Unrecognized command or argument 'frobnicate'")]
    [InlineData("status --verbose", "Unrecognized command or argument '--verbose'")]
    [InlineData("", "name a command: status, switchover, failover, failback, pause, resume, release-deletes, drain, undrain, history, db, backup")]
    [InlineData("db", "name a command: promote, rejoin, history, rejoins")]
    public async Task IsAUsageErrorNamingTheProblem(string commandLine, string message)
    {
        var result = await _cli.RunAsync(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.Contains(message, result.Stderr);
    }

    [Fact]
    public async Task AUsageErrorPointsAtTheHelpOfTheCommandConcerned()
    {
        var result = await _cli.RunAsync("db", "promote");

        Assert.Contains("Run 'gatewayctl db promote --help' for usage.", result.Stderr);
    }

    [Fact]
    public async Task AUrlThatIsNotHttpIsAUsageError()
    {
        var result = await _cli.RunAsync("status", "--url", "ftp://gateway");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--url 'ftp://gateway' is not an http:// or https:// URL", result.Stderr);
    }

    [Fact]
    public async Task HelpListsEveryCommandAndSucceeds()
    {
        var result = await _cli.RunAsync("--help");

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        foreach (var command in new[] { "status", "switchover", "failover", "failback", "drain", "undrain", "history", "db" })
        {
            Assert.Matches($@"\n  {command} +\S", result.Stdout);
        }
    }

    [Fact]
    public async Task HelpOfACommandWithARequiredOptionIsNotAnError()
    {
        var result = await _cli.RunAsync("db", "promote", "--help");

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("--to <site> (REQUIRED)", result.Stdout);
        Assert.Contains("--force", result.Stdout);
    }

    [Fact]
    public async Task FailbackHelpSaysItPreparesTheOldSiteAndThatASwitchoverMovesTheService()
    {
        var result = await _cli.RunAsync("failback", "--help");

        var help = System.Text.RegularExpressions.Regex.Replace(result.Stdout, @"\s+", " ");
        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("rebuild its database as a standby of the active site and copy the filestore back until it has caught up", help);
        Assert.Contains("It does not move the service: 'switchover --to SITE' does, after", help);
    }

    [Theory]
    [InlineData("90s", 90_000)]
    [InlineData("10m", 600_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("500ms", 500)]
    [InlineData("30", 30_000)]
    [InlineData("00:02:00", 120_000)]
    public void TimeoutsReadTheWayOperatorsWriteThem(string text, int milliseconds)
    {
        var errors = new List<string>();
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), GlobalOptions.ParseTimeout(text, errors.Add));
        Assert.Empty(errors);
    }
}
