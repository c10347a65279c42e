using System.Net.Http.Json;
using Gateway.Coordinator.Admin;
using Gateway.Database.Failover;
using Gateway.Testing;
using Gateway.Tests.Support;
using Npgsql;

namespace Gateway.Tests.Database.Failover;

/// <summary>
/// A real PostgreSQL primary (A) and streaming standby (B) behind the real gateway, configured so the gateway can
/// fence, promote and rebuild them (their data directories and the default pg_ctl command templates).
/// </summary>
public sealed class DatabaseFailoverFixture : IAsyncDisposable
{
    private DatabaseFailoverFixture(PostgresPair postgres, GatewaySettings settings)
    {
        Postgres = postgres;
        Settings = settings;
    }

    public PostgresPair Postgres { get; }
    public GatewaySettings Settings { get; }
    public RunningGateway Gateway { get; private set; } = null!;

    public PostgresNode NodeOf(string site) => site == "A" ? Postgres.Primary : Postgres.Standby;

    /// <summary>One service instance per site, so that the coordinator sees both sites healthy apart from their databases.</summary>
    private readonly List<EchoBackend> _instances = [];

    public static async Task<DatabaseFailoverFixture> StartAsync(Action<Dictionary<string, string?>>? configure = null)
    {
        var postgres = new PostgresPair();
        await postgres.InitializeAsync();
        var (a1, b1) = (await EchoBackend.StartAsync("a1"), await EchoBackend.StartAsync("b1"));
        var settings = new GatewaySettings([a1.Url], [b1.Url], postgres.Primary.Port, postgres.Standby.Port);
        settings.Values["Gateway:Sites:0:Database:DataDirectory"] = postgres.Primary.DataDirectory;
        settings.Values["Gateway:Sites:1:Database:DataDirectory"] = postgres.Standby.DataDirectory;
        settings.Values["Gateway:Database:BinDirectory"] = PostgresTools.BinDirectory;
        // The coordinator is the one decider: a lost primary is a failover of its site, once the other has been healthy this long.
        settings.Values["Gateway:Coordinator:RecoverAfter"] = "00:00:01";
        configure?.Invoke(settings.Values);
        var fixture = new DatabaseFailoverFixture(postgres, settings);
        fixture._instances.AddRange([a1, b1]);
        fixture.Gateway = await RunningGateway.StartAsync(settings);
        await fixture.WaitForStatusAsync(
            s => s.Database.Nodes.All(n => n.Reachable) && s.Database.Read.Action == "Forward" && s.Instances.All(i => i.Health == "Healthy"), "both nodes and instances observed");
        return fixture;
    }

    public string WriteEndpoint(string database = "postgres") => ConnectionString(Settings.PgWritePort, database);

    public string ReadEndpoint(string database = "postgres") => ConnectionString(Settings.PgReadPort, database);

    private static string ConnectionString(int port, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = port,
        Username = "postgres",
        Database = database,
        Timeout = 15,
        CommandTimeout = 15,
        Pooling = false,
    }.ConnectionString;

    public async Task<(T? Report, HttpResponseMessage Response)> PostAsync<T>(string path, object body)
    {
        var response = await Gateway.Admin.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        var report = response.Content.Headers.ContentType?.MediaType == "application/json" && text.StartsWith('{') && !text.StartsWith("{\"error\"")
            ? global::System.Text.Json.JsonSerializer.Deserialize<T>(text, AdminRequests.Json)
            : default;
        return (report, response);
    }

    public Task<(PromotionReport? Report, HttpResponseMessage Response)> PromoteAsync(string to, bool force = false) =>
        PostAsync<PromotionReport>("/admin/database/promote", new { to, force });

    public Task<(RejoinReport? Report, HttpResponseMessage Response)> RejoinAsync(string site, string method) =>
        PostAsync<RejoinReport>("/admin/database/rejoin", new { site, method });

    public async Task<GatewayStatus> WaitForStatusAsync(Func<GatewayStatus, bool> condition, string what, TimeSpan? limit = null)
    {
        var giveUpAt = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var status = await Gateway.StatusAsync();
            if (condition(status))
            {
                return status;
            }

            if (DateTime.UtcNow > giveUpAt)
            {
                throw new TimeoutException($"waited for: {what}; status: {await Gateway.Admin.GetStringAsync("/admin/status")}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL to the postmaster, as a crashed host: its backends notice and exit, nothing is flushed or shut down.</summary>
    public void KillPostmaster(string site)
    {
        var pid = int.Parse(File.ReadLines(Path.Combine(NodeOf(site).DataDirectory, "postmaster.pid")).First());
        global::System.Diagnostics.Process.GetProcessById(pid).Kill();
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Postgres.DisposeAsync();
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync();
        }

        Settings.Dispose();
    }
}
