using System.Text.Json.Nodes;
using Gateway.Cli.Tests.Support;

namespace Gateway.Cli.Tests.Integration;

/// <summary>drain and undrain against the real gateway (its own, since a drain is state the other tests would see).</summary>
[Integration]
public sealed class DrainCommandsTests : IAsyncLifetime
{
    private LiveGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await LiveGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task DrainShowsInStatusAndUndrainTakesItBack()
    {
        var drain = await _gateway.Cli.RunAsync("drain", "--instance", "a1");
        var drainedStatus = await _gateway.Cli.RunAsync("status");
        var undrain = await _gateway.Cli.RunAsync("undrain", "--instance", "a1");
        var status = await _gateway.StatusAsync();

        Assert.True(drain.ExitCode == 0, drain.ToString());
        Assert.StartsWith("drain instance a1: succeeded\n  instance a1 drained: 0 requests in flight\n", drain.Stdout.ReplaceLineEndings("\n"));
        Assert.Matches(@"\n  a1 +A +\S+ +Healthy, drained +0\n", drainedStatus.Stdout.ReplaceLineEndings("\n"));
        Assert.Contains("\nDrained: instance a1 (no new requests", drainedStatus.Stdout.ReplaceLineEndings("\n"));
        Assert.True(undrain.ExitCode == 0, undrain.ToString());
        Assert.StartsWith("undrain instance a1: succeeded\n  instance a1 undrained: routed again\n", undrain.Stdout.ReplaceLineEndings("\n"));
        Assert.Empty(status["drained"]!["instances"]!.AsArray());
    }

    [Fact]
    public async Task ARefusedDrainIsExit1WithTheGatewaysReason()
    {
        await _gateway.Cli.RunAsync("drain", "--site", "B");

        var refused = await _gateway.Cli.RunAsync("drain", "--site", "A");
        var unknown = await _gateway.Cli.RunAsync("drain", "--instance", "z9");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("drain site A refused (HTTP 409 Conflict): draining site A would leave no instance to route to", refused.Stderr);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("unknown instance 'z9'", unknown.Stderr);
    }
}
