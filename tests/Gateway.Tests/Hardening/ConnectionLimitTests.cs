using Gateway.Testing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Hardening;

/// <summary>Limits:MaxConcurrentConnections, on a gateway of its own (the limit would starve the shared suite's good client).</summary>
[Integration]
public sealed class ConnectionLimitTests : IAsyncLifetime
{
    private const int MaxConnections = 2;
    private EchoBackend _backend = null!;
    private GatewaySettings _settings = null!;
    private RunningGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _backend = await EchoBackend.StartAsync("a1");
        _settings = new GatewaySettings([_backend.Url], ["http://127.0.0.1:1"]);
        _settings.Values["Gateway:Limits:MaxConcurrentConnections"] = MaxConnections.ToString();
        _gateway = await RunningGateway.StartAsync(_settings);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        _settings.Dispose();
    }

    private Task<RawExchange> GetAsync() =>
        RawHttp.SendAsync(_settings.PublicPort, $"GET /limit HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

    [Fact]
    public async Task A_connection_over_the_limit_is_closed_unanswered_and_a_freed_slot_serves_again()
    {
        var held = new List<System.Net.Sockets.TcpClient>();
        for (var i = 0; i < MaxConnections; i++)
        {
            held.Add(await RawHttp.ConnectAsync(_settings.PublicPort));
        }

        var over = await GetAsync();

        Assert.True(over.ClosedByServer && over.Statuses.Count == 0, $"expected a close without an answer; got {over}");
        held[0].Dispose();
        RawExchange again;
        var attempts = 0;
        do
        {
            // The freed slot is returned once the gateway has noticed the close.
            await Task.Delay(100);
            again = await GetAsync();
        }
        while (again.Statuses.Count == 0 && ++attempts < 50);

        Assert.Equal([200], again.Statuses);
        held.ForEach(client => client.Dispose());
    }
}
