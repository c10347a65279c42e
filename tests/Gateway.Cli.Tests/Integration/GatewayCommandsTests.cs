using System.Text.Json.Nodes;
using Gateway.Cli.Tests.Support;

namespace Gateway.Cli.Tests.Integration;

/// <summary>The real gateway, started once for the class (its database nodes unreachable): what every operator call meets first.</summary>
public sealed class RealGatewayFixture : IAsyncLifetime
{
    public LiveGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync() => Gateway = await LiveGateway.StartAsync();

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

[Integration]
public sealed class GatewayCommandsTests(RealGatewayFixture fixture) : IClassFixture<RealGatewayFixture>
{
    private LiveGateway Gateway => fixture.Gateway;

    [Fact]
    public async Task StatusPrintsTheInstancesAndTheDatabase()
    {
        var status = await Gateway.StatusAsync();

        var result = await Gateway.Cli.RunAsync("status");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith($"epoch {status["epoch"]}   active site A   not switching\n", result.Stdout.ReplaceLineEndings("\n"));
        foreach (var instance in status["instances"]!.AsArray())
        {
            Assert.Matches($@"\n  {instance!["id"]} +{instance["site"]} +{instance["url"]} +Healthy +0\n", result.Stdout);
        }

        Assert.Contains("Database   primary A   fenced none", result.Stdout);
        Assert.Matches(@"\n  A +no +unknown ", result.Stdout);
        Assert.Empty(result.Stderr);
    }

    [Fact]
    public async Task StatusJsonIsTheGatewaysDocument()
    {
        var result = await Gateway.Cli.RunAsync("status", "--json");

        Assert.Equal(0, result.ExitCode);
        var document = JsonNode.Parse(result.Stdout)!;
        Assert.Equal(["a1", "b1"], document["instances"]!.AsArray().Select(i => (string)i!["id"]!));
    }

    [Fact]
    public async Task AWrongTokenIsExit3AndNeverPrinted()
    {
        var result = await CliRunner.For(Gateway.AdminUrl, "not-the-token-0123").RunAsync("status");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Equal($"gatewayctl: wrong or missing admin token (HTTP 401 Unauthorized from {Gateway.AdminUrl}/)\n", result.Stderr.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("not-the-token-0123", result.Stdout + result.Stderr);
        Assert.DoesNotContain(Gateway.Token, result.Stdout + result.Stderr);
    }

    [Fact]
    public async Task TheTokenCanComeFromAFileOrTheDemosPlace()
    {
        var url = new Dictionary<string, string> { [CliEnvironment.UrlVariable] = Gateway.AdminUrl };
        var fromOption = await new CliRunner(url).RunAsync("status", "--token-file", Gateway.TokenFile);

        var repository = Directory.CreateTempSubdirectory("gatewayctl-demo-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(repository, ".demo", "secrets"));
            File.Copy(Gateway.TokenFile, Path.Combine(repository, CliEnvironment.DemoTokenFile));
            var fromDemo = await new CliRunner(workingDirectory: repository).RunAsync("status", "--url", Gateway.AdminUrl);

            Assert.True(fromOption.ExitCode == 0, fromOption.ToString());
            Assert.True(fromDemo.ExitCode == 0, fromDemo.ToString());
        }
        finally
        {
            Directory.Delete(repository, recursive: true);
        }
    }

    [Theory]
    [InlineData("db promote --to C", "promote database to C refused (HTTP 404 Not Found): unknown site 'C'")]
    [InlineData("db rejoin --site C", "rejoin C as a standby (auto) refused (HTTP 404 Not Found): unknown site 'C'")]
    [InlineData("switchover --to C", "switchover to C refused (HTTP 404 Not Found): unknown site 'C'")]
    [InlineData("failover --to C --force", "failover to C (forced) refused (HTTP 404 Not Found): unknown site 'C'")]
    public async Task AnUnknownSiteIsExit1WithTheGatewaysWords(string commandLine, string message)
    {
        var result = await Gateway.Cli.RunAsync(commandLine.Split(' '));

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Equal($"gatewayctl: {message}\n", result.Stderr.ReplaceLineEndings("\n"));
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task WithJsonARefusalStillPrintsTheGatewaysAnswer()
    {
        var result = await Gateway.Cli.RunAsync("db", "promote", "--to", "C", "--json");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Equal("unknown site 'C'", (string?)JsonNode.Parse(result.Stdout)!["error"]);
    }

    [Theory]
    [InlineData("db history")]
    [InlineData("history")]
    public async Task AnEmptyHistorySaysSo(string commandLine)
    {
        var result = await Gateway.Cli.RunAsync(commandLine.Split(' '));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("no operations recorded yet\n", result.Stdout.ReplaceLineEndings("\n"));
    }
}
