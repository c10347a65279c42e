using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Gateway.Configuration;
using Gateway.Testing;
using Microsoft.Extensions.Configuration;

namespace Gateway.Cli.Tests.Support;

/// <summary>
/// The real gateway started in the test process on free loopback ports, with one real HTTP backend per site and,
/// when given, a real PostgreSQL primary (A) and standby (B) it may fence, promote and rebuild. The configuration
/// follows tests/Gateway.Tests' GatewaySettings: real directories for the SANs, the filestore link and the token.
/// </summary>
public sealed class LiveGateway : IAsyncDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gatewayctl-test-").FullName;
    private readonly List<EchoBackend> _backends;
    private readonly PostgresPair? _postgres;
    private readonly HashSet<int> _portsTaken = [];
    private GatewayHost? _host;

    private LiveGateway(List<EchoBackend> backends, PostgresPair? postgres)
    {
        _backends = backends;
        _postgres = postgres;
        AdminPort = NextPort();
        Admin = new HttpClient { BaseAddress = new Uri(AdminUrl), Timeout = TimeSpan.FromMinutes(2) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    public string Token { get; } = Guid.NewGuid().ToString("N");
    public int AdminPort { get; }
    public string AdminUrl => $"http://127.0.0.1:{AdminPort}";
    public string TokenFile => Path.Combine(_root, "admin-token");
    public HttpClient Admin { get; }

    /// <summary>gatewayctl pointed at this gateway through GATEWAY_ADMIN_URL and GATEWAY_ADMIN_TOKEN.</summary>
    public CliRunner Cli => CliRunner.For(AdminUrl, Token);

    /// <param name="postgres">A started pair; without one the database ports point where nothing listens.</param>
    public static async Task<LiveGateway> StartAsync(PostgresPair? postgres = null)
    {
        var backends = new List<EchoBackend> { await EchoBackend.StartAsync("a1"), await EchoBackend.StartAsync("b1") };
        var gateway = new LiveGateway(backends, postgres);
        try
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(gateway.Configuration()).Build();
            gateway._host = GatewayHost.Create(GatewayConfigurationLoader.Load(configuration, adminTokenFromEnvironment: false), configuration);
            await gateway._host.StartAsync();
            await gateway.WaitUntilAsync(status => status["instances"]!.AsArray().All(i => (string?)i!["health"] == "Healthy"), "every instance healthy");
            if (postgres is not null)
            {
                await gateway.WaitUntilAsync(
                    status => status["database"]!["nodes"]!.AsArray().All(n => (bool?)n!["reachable"] == true) && (string?)status["database"]!["read"]!["action"] == "Forward",
                    "both database nodes observed");
            }
        }
        catch
        {
            // A test whose setup fails gets no DisposeAsync call: leave no listener or directory behind.
            await gateway.DisposeAsync();
            throw;
        }

        return gateway;
    }

    private Dictionary<string, string?> Configuration()
    {
        var (sanA, sanB, link, state) = (Path.Combine(_root, "san-a"), Path.Combine(_root, "san-b"), Path.Combine(_root, "filestore"), Path.Combine(_root, "state"));
        Directory.CreateDirectory(sanA);
        Directory.CreateDirectory(sanB);
        File.CreateSymbolicLink(link, sanA);
        File.WriteAllText(TokenFile, Token + "\n");

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Gateway:ActiveSite"] = "A",
            ["Gateway:Filestore:Links:0"] = link,
            ["Gateway:Admin:TokenFile"] = TokenFile,
            ["Gateway:StateDirectory"] = state,
            ["Gateway:Listeners:PublicUrl"] = $"http://127.0.0.1:{NextPort()}",
            ["Gateway:Listeners:AdminUrl"] = AdminUrl,
            ["Gateway:Listeners:PgWriteEndpoint"] = $"127.0.0.1:{NextPort()}",
            ["Gateway:Listeners:PgReadEndpoint"] = $"127.0.0.1:{NextPort()}",
            // Fast probes keep the tests short.
            ["Gateway:Routing:HealthCheck:Interval"] = "00:00:00.200",
        };
        AddSite(values, 0, "A", _backends[0], sanA, _postgres?.Primary);
        AddSite(values, 1, "B", _backends[1], sanB, _postgres?.Standby);
        if (_postgres is not null)
        {
            values["Gateway:Database:BinDirectory"] = PostgresTools.BinDirectory;
        }

        return values;
    }

    /// <summary>A free port none of this gateway's other listeners got: the kernel may hand a just-released port out twice.</summary>
    private int NextPort()
    {
        while (true)
        {
            var port = FreePort.Next();
            if (_portsTaken.Add(port) && _backends.All(b => b.Port != port) && _postgres?.Primary.Port != port && _postgres?.Standby.Port != port)
            {
                return port;
            }
        }
    }

    private void AddSite(Dictionary<string, string?> values, int index, string id, EchoBackend backend, string san, PostgresNode? database)
    {
        var key = $"Gateway:Sites:{index}";
        values[$"{key}:Id"] = id;
        values[$"{key}:SanPath"] = san;
        values[$"{key}:Database:Host"] = "127.0.0.1";
        values[$"{key}:Database:Port"] = (database?.Port ?? NextPort()).ToString();
        if (database is not null)
        {
            values[$"{key}:Database:DataDirectory"] = database.DataDirectory;
        }

        values[$"{key}:Instances:0:Id"] = backend.Id;
        values[$"{key}:Instances:0:Url"] = backend.Url;
    }

    public async Task<JsonNode> StatusAsync() => JsonNode.Parse(await Admin.GetStringAsync("/admin/status"))!;

    public async Task WaitUntilAsync(Func<JsonNode, bool> condition, string what, TimeSpan? limit = null)
    {
        var giveUpAt = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(30));
        while (!condition(await StatusAsync()))
        {
            if (DateTime.UtcNow > giveUpAt)
            {
                throw new TimeoutException($"waited for: {what}; status: {await Admin.GetStringAsync("/admin/status")}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        if (_host is not null)
        {
            await _host.StopAsync();
            await _host.DisposeAsync();
        }

        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Left in /tmp at worst; not worth failing a test for.
        }
    }
}
