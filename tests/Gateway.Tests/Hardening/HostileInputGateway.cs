using System.Collections.Concurrent;
using Gateway.Testing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Hardening;

/// <summary>
/// The real gateway in front of four recording backends, with the public listener's limits set small and short so
/// every vector is quick to provoke, and a <see cref="GoodClient"/> running all along.
/// </summary>
public sealed class HostileInputGateway : IAsyncLifetime
{
    public const string AllowedHost = "gateway.test";
    public const long MaxBody = 1024 * 1024;
    public static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(3);

    private readonly List<EchoBackend> _backends = [];
    private readonly ConcurrentDictionary<string, bool> _acceptedPaths = new();
    private GatewaySettings _settings = null!;

    public RunningGateway Gateway { get; private set; } = null!;
    public GoodClient GoodClient { get; private set; } = null!;
    public int Port => _settings.PublicPort;

    public async Task InitializeAsync()
    {
        foreach (var id in new[] { "a1", "a2", "b1", "b2" })
        {
            _backends.Add(await EchoBackend.StartAsync(id));
        }

        _settings = new GatewaySettings([_backends[0].Url, _backends[1].Url], [_backends[2].Url, _backends[3].Url]);
        _settings.Values["Gateway:Routing:AllowedHosts:0"] = "127.0.0.1";
        _settings.Values["Gateway:Routing:AllowedHosts:1"] = AllowedHost;
        _settings.Values["Gateway:Limits:MaxRequestBodySize"] = MaxBody.ToString();
        _settings.Values["Gateway:Limits:RequestHeadersTimeout"] = HeadersTimeout.ToString();
        _settings.Values["Gateway:Limits:KeepAliveTimeout"] = KeepAliveTimeout.ToString();
        _settings.Values["Gateway:Limits:MinRequestBodyDataRate"] = "1000";
        _settings.Values["Gateway:Limits:MinRequestBodyDataRateGracePeriod"] = "00:00:02";
        Gateway = await RunningGateway.StartAsync(_settings);
        await Gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
        GoodClient = new GoodClient(Port);
    }

    /// <summary>Everything any backend has received, in no particular order.</summary>
    public IReadOnlyList<ReceivedRequest> Received => _backends.SelectMany(b => b.Received).ToList();

    public IReadOnlyList<ReceivedRequest> ReceivedAt(string path) => Received.Where(r => r.Path == path).ToList();

    /// <summary>Declares that a vector's request is meant to reach a backend (one the gateway accepts, sanitised).</summary>
    public void ExpectForwarded(string path) => _acceptedPaths[path] = true;

    /// <summary>
    /// The proof that nothing hostile got through: every request any backend ever received is the good client's or
    /// one a test declared it expects to be forwarded. A smuggled request, or a refused one forwarded anyway, fails it.
    /// </summary>
    public void AssertOnlyExpectedRequestsReceived()
    {
        var unexpected = Received
            .Where(r => !r.Path.StartsWith(GoodClient.PathPrefix, StringComparison.Ordinal) && !_acceptedPaths.ContainsKey(r.Path))
            .Select(r => $"{r.Method} {r.Path}")
            .ToList();
        Assert.Empty(unexpected);
    }

    public async Task DisposeAsync()
    {
        if (GoodClient is not null)
        {
            await GoodClient.DisposeAsync();
        }

        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        _settings?.Dispose();
    }
}
