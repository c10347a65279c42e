using Gateway.Cli.Connection;
using Gateway.Cli.Tests.Support;
using Gateway.Testing;

namespace Gateway.Cli.Tests.CommandLine;

/// <summary>Where the URL and the token come from, and what happens when they are missing or lead nowhere.</summary>
public sealed class ConnectionTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gatewayctl-connection-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private CliEnvironment Environment(Dictionary<string, string>? variables = null) =>
        new(name => variables is not null && variables.TryGetValue(name, out var value) ? value : null, _directory);

    private string WriteFile(string relativePath, string content)
    {
        var path = Path.Combine(_directory, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void TheTokenFileOptionWinsOverEverythingElseAndIsTrimmed()
    {
        WriteFile("given", " from-option \n");
        WriteFile(CliEnvironment.DemoTokenFile, "from-demo");
        var environment = Environment(new() { [CliEnvironment.TokenVariable] = "from-variable", [CliEnvironment.TokenFileVariable] = WriteFile("env-file", "from-env-file") });

        Assert.Equal("from-option", ConnectionSettings.Resolve("http://127.0.0.1:8081", "given", environment).Settings!.Token);
    }

    [Fact]
    public void ThenTheTokenVariableThenTheTokenFileVariableThenTheDemoFile()
    {
        var demo = WriteFile(CliEnvironment.DemoTokenFile, "from-demo\n");
        var envFile = WriteFile("env-file", "from-env-file");

        Assert.Equal("from-variable", Token(new() { [CliEnvironment.TokenVariable] = "from-variable", [CliEnvironment.TokenFileVariable] = envFile }));
        Assert.Equal("from-env-file", Token(new() { [CliEnvironment.TokenFileVariable] = envFile }));
        Assert.Equal("from-demo", Token(new()));
        File.Delete(demo);
        Assert.Null(ConnectionSettings.Resolve("http://127.0.0.1:8081", null, Environment()).Settings);

        string? Token(Dictionary<string, string> variables) => ConnectionSettings.Resolve("http://127.0.0.1:8081", null, Environment(variables)).Settings?.Token;
    }

    private void WriteDemoConfig(string adminUrl) =>
        WriteFile(CliEnvironment.DemoConfigFile, $$"""{ "Gateway": { "Listeners": { "PublicUrl": "http://127.0.0.1:18080", "AdminUrl": "{{adminUrl}}" } } }""");

    private Uri? BaseUrl(Dictionary<string, string>? variables = null, string? urlOption = null) =>
        ConnectionSettings.Resolve(urlOption, null, Environment(variables)).Settings?.BaseUrl;

    [Fact]
    public void TheDemosTokenFoundByItselfGoesToTheDemosAdminUrlOnly()
    {
        WriteFile(CliEnvironment.DemoTokenFile, "from-demo");
        WriteDemoConfig("http://127.0.0.1:18081");

        Assert.Equal("http://127.0.0.1:18081/", BaseUrl()?.ToString());
        Assert.Equal("http://ops.example:9/", BaseUrl(new() { [CliEnvironment.UrlVariable] = "http://ops.example:9" })?.ToString());
        Assert.Equal("http://ops.example:7/", BaseUrl(urlOption: "http://ops.example:7")?.ToString());
        // A token from elsewhere is not the demo's: the demo's port does not apply to it.
        Assert.Equal("http://127.0.0.1:8081/", BaseUrl(new() { [CliEnvironment.TokenVariable] = "from-variable" })?.ToString());
    }

    [Theory]
    [InlineData("http://0.0.0.0:18081", "http://127.0.0.1:18081/")]
    [InlineData("http://*:18081", "http://127.0.0.1:18081/")]
    [InlineData("http://[::]:18081", "http://127.0.0.1:18081/")]
    public void ADemoAdminListenerOnEveryAddressIsCalledOnTheLoopback(string configured, string called)
    {
        WriteFile(CliEnvironment.DemoTokenFile, "from-demo");
        WriteDemoConfig(configured);

        Assert.Equal(called, BaseUrl()?.ToString());
    }

    [Fact]
    public async Task TheDemosTokenWithoutTheDemosConfigurationIsExit3AndNothingIsSent()
    {
        WriteFile(CliEnvironment.DemoTokenFile, "from-demo");

        var result = await new CliRunner(workingDirectory: _directory).RunAsync("status");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains($"using the demo's token (.demo/secrets/admin-token) but not its admin URL: cannot read '{Path.Combine(_directory, CliEnvironment.DemoConfigFile)}'", result.Stderr);
        Assert.Contains("pass --url or set GATEWAY_ADMIN_URL", result.Stderr);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8081", "http://127.0.0.1:8081/")]
    [InlineData("https://ops.example/gateway", "https://ops.example/gateway/")]
    [InlineData("https://ops.example/gateway/", "https://ops.example/gateway/")]
    public void TheUrlIsABaseThatKeepsItsPath(string url, string baseUrl)
    {
        var settings = ConnectionSettings.Resolve(url, null, Environment(new() { [CliEnvironment.TokenVariable] = "t" })).Settings!;

        Assert.Equal(baseUrl, settings.BaseUrl.ToString());
        Assert.Equal(baseUrl + "admin/status", new Uri(settings.BaseUrl, "admin/status").ToString());
    }

    [Fact]
    public async Task NoTokenAnywhereIsExit3SayingWhereToPutOne()
    {
        var result = await new CliRunner(workingDirectory: _directory).RunAsync("status");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains("no admin token: pass --token-file <file>, or set GATEWAY_ADMIN_TOKEN_FILE or GATEWAY_ADMIN_TOKEN", result.Stderr);
    }

    [Fact]
    public async Task AnUnreadableOrEmptyTokenFileIsExit3NamingTheFile()
    {
        var missing = await new CliRunner(workingDirectory: _directory).RunAsync("status", "--token-file", "nope");
        WriteFile("empty", "\n");
        var empty = await new CliRunner(new Dictionary<string, string> { [CliEnvironment.TokenFileVariable] = "empty" }, _directory).RunAsync("status");

        Assert.Equal(ExitCodes.Unreachable, missing.ExitCode);
        Assert.Contains($"cannot read the admin token file '{Path.Combine(_directory, "nope")}' (from --token-file)", missing.Stderr);
        Assert.Equal(ExitCodes.Unreachable, empty.ExitCode);
        Assert.Contains($"the admin token file '{Path.Combine(_directory, "empty")}' (from GATEWAY_ADMIN_TOKEN_FILE) is empty", empty.Stderr);
    }

    [Fact]
    public async Task AGatewayThatDoesNotListenIsExit3AndTheTokenIsNeverPrinted()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var result = await CliRunner.For(url, "s3cret-token-value").RunAsync("db", "promote", "--to", "B");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains($"cannot reach the gateway at {url}/: Connection refused", result.Stderr);
        Assert.DoesNotContain("s3cret-token-value", result.Stdout + result.Stderr);
    }
}
