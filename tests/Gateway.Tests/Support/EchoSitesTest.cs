using Gateway.Testing;

namespace Gateway.Tests.Support;

/// <summary>
/// A test class over one real echo backend per site (a1 in A, b1 in B) and gateway settings naming them. Each test
/// may change <see cref="Settings"/> before it starts the gateway with <see cref="StartGatewayAsync"/>; whatever was
/// started is stopped after the test.
/// </summary>
[Integration]
public abstract class EchoSitesTest : IAsyncLifetime
{
    private RunningGateway? _gateway;

    protected EchoBackend A1 { get; private set; } = null!;

    protected EchoBackend B1 { get; private set; } = null!;

    protected GatewaySettings Settings { get; private set; } = null!;

    protected RunningGateway Gateway => _gateway ?? throw new InvalidOperationException("the test has not started a gateway");

    public virtual async Task InitializeAsync()
    {
        A1 = await EchoBackend.StartAsync("a1");
        B1 = await EchoBackend.StartAsync("b1");
        Settings = new GatewaySettings([A1.Url], [B1.Url]);
    }

    protected async Task<RunningGateway> StartGatewayAsync()
    {
        _gateway = await RunningGateway.StartAsync(Settings);
        return _gateway;
    }

    /// <summary>Stops the gateway and starts it again on the same settings and state directory.</summary>
    protected async Task<RunningGateway> RestartGatewayAsync()
    {
        await Gateway.DisposeAsync();
        _gateway = null;
        return await StartGatewayAsync();
    }

    public virtual async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await A1.DisposeAsync();
        await B1.DisposeAsync();
        Settings.Dispose();
    }
}
