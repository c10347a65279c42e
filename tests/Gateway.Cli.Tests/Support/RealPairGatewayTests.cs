using Gateway.Testing;

namespace Gateway.Cli.Tests.Support;

/// <summary>Base of the tests that run gatewayctl against the real gateway in front of a real PostgreSQL primary (A) and standby (B).</summary>
[Integration]
public abstract class RealPairGatewayTests : IAsyncLifetime
{
    private readonly PostgresPair _postgres = new();

    protected LiveGateway Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        Gateway = await LiveGateway.StartAsync(_postgres);
    }

    public async Task DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        await _postgres.DisposeAsync();
    }
}
