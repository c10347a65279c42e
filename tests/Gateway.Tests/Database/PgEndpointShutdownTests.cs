using Gateway.Testing;
using Gateway.Tests.Support;
using Npgsql;

namespace Gateway.Tests.Database;

/// <summary>
/// A stopping gateway ends its open PostgreSQL endpoint sessions instead of waiting for them: connection pools never
/// close theirs, so the server's graceful wait ran to its timeout (30 s) on every restart of a gateway with clients.
/// </summary>
[Integration]
public sealed class PgEndpointShutdownTests : IAsyncLifetime
{
    private const string UngracefulClose = "Some connections failed to close gracefully during server shutdown";
    private readonly PostgresPair _postgres = new();
    private GatewaySettings _settings = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        _settings = new GatewaySettings(["http://127.0.0.1:1"], ["http://127.0.0.1:2"], _postgres.Primary.Port, _postgres.Standby.Port);
        _settings.Values["Gateway:Coordinator:AutoFailover"] = "false";
        _settings.Values["Gateway:Database:AutoFailover"] = "false";
        // Kestrel says at Debug when connections outlived the shutdown timeout and were cut.
        _settings.Values["Logging:LogLevel:Microsoft.AspNetCore.Server.Kestrel.Connections"] = "Debug";
    }

    public async Task DisposeAsync()
    {
        await _postgres.DisposeAsync();
        _settings.Dispose();
    }

    [Fact]
    public async Task Sigterm_closes_open_sessions_at_once_says_so_and_exits_0()
    {
        await using var gateway = GatewayProcess.StartNew(_settings, _settings.WriteJsonFile());
        await gateway.WaitForAsync(s => s.Database.Write.Action == "Forward", "the write endpoint forwarding", TimeSpan.FromSeconds(30));
        var sessions = new List<NpgsqlConnection>();
        for (var i = 0; i < 3; i++)
        {
            var session = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1", Port = _settings.PgWritePort, Username = "postgres", Database = "postgres", Pooling = false, Timeout = 15,
            }.ConnectionString);
            await session.OpenAsync();
            await using var command = new NpgsqlCommand("select 1", session);
            Assert.Equal(1, await command.ExecuteScalarAsync());
            sessions.Add(session);
        }

        var exitCode = await gateway.StopAsync();

        var log = gateway.Output;
        Assert.True(exitCode == 0, $"the gateway exited with {exitCode}\n{gateway.LogTail()}");
        Assert.Contains("Stopping: 3 PostgreSQL endpoint session(s) open (site A: 3, site B: 0) are closed; 0 HTTP request(s) in flight", log);
        Assert.DoesNotContain(UngracefulClose, log);
        foreach (var session in sessions)
        {
            await using var command = new NpgsqlCommand("select 1", session);
            await Assert.ThrowsAnyAsync<Exception>(() => command.ExecuteScalarAsync());
            await session.DisposeAsync();
        }
    }

    [Fact]
    public void The_stopping_sentence_counts_sessions_by_site_and_names_the_bound()
    {
        Assert.Equal(
            "Stopping: 5 PostgreSQL endpoint session(s) open (site A: 1, site B: 4) are closed; 2 HTTP request(s) in flight get up to 10 s to finish",
            GatewayShutdown.Describe([("A", 1), ("B", 4)], 2, TimeSpan.FromSeconds(10)));
    }
}
