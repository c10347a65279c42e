using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Testing;
using Gateway.Tests.Support;
using Npgsql;

namespace Gateway.Tests.Hardening;

/// <summary>
/// The gateway's two secrets (the admin token and its database password) never leave it: a real gateway process,
/// with real PostgreSQL that demands the password, is put through ordinary and failing work, and every byte it
/// writes to its logs, every status and /metrics answer, and the errors of bad configurations are searched for them.
/// </summary>
[Integration]
public sealed class SecretsTests : IAsyncLifetime
{
    private readonly string _password = "pw-" + Guid.NewGuid().ToString("N");
    private readonly PostgresPair _postgres = new();
    private readonly List<EchoBackend> _backends = [];
    private GatewaySettings _settings = null!;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        await RequirePasswordAsync();
        foreach (var id in new[] { "a1", "b1" })
        {
            _backends.Add(await EchoBackend.StartAsync(id));
        }

        _settings = new GatewaySettings([_backends[0].Url], [_backends[1].Url], _postgres.Primary.Port, _postgres.Standby.Port);
        var passwordFile = Path.Combine(_settings.Root, "pg-password");
        await File.WriteAllTextAsync(passwordFile, _password + "\n");
        _settings.Values["Gateway:Database:PasswordFile"] = passwordFile;
        _settings.Values["Gateway:Coordinator:AutoFailover"] = "false";
        _settings.Values["Gateway:Database:AutoFailover"] = "false";
        // The test tries many wrong tokens on purpose; the failed-auth lockout must not answer its later calls with 429.
        _settings.Values["Gateway:Admin:MaxFailedAuthAttempts"] = "1000";
        // Everything the gateway can say, down to its debug messages.
        _settings.Values["Logging:LogLevel:Default"] = "Debug";
    }

    /// <summary>The postgres role gets the password and both nodes demand it over TCP (replication stays trusted, as the standby streams without one).</summary>
    private async Task RequirePasswordAsync()
    {
        await _postgres.Primary.ExecuteAsync($"alter role postgres password '{_password}'");
        foreach (var node in new[] { _postgres.Primary, _postgres.Standby })
        {
            await File.WriteAllTextAsync(Path.Combine(node.DataDirectory, "pg_hba.conf"),
                "host replication all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n");
            await ProcessRunner.RunAsPostgresAsync("pg_ctl", "-D", node.DataDirectory, "reload");
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        await _postgres.DisposeAsync();
        _settings?.Dispose();
    }

    [Fact]
    public async Task Neither_the_admin_token_nor_the_database_password_appears_in_logs_status_metrics_or_config_errors()
    {
        var seen = new StringBuilder();
        await using (var gateway = GatewayProcess.StartNew(_settings, _settings.WriteJsonFile()))
        {
            using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_settings.AdminPort}"), Timeout = TimeSpan.FromSeconds(10) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _settings.AdminToken);
            seen.AppendLine(await WaitForStatusAsync(admin, status => status.Contains("\"reachable\":true", StringComparison.OrdinalIgnoreCase)));

            await ExerciseAsync(seen);

            // A node that stops answering: the gateway's own connections fail, and it says so.
            await _postgres.Standby.StopAsync("immediate");
            seen.AppendLine(await WaitForStatusAsync(admin, status => status.Contains("\"reachable\":false", StringComparison.OrdinalIgnoreCase)));
            seen.AppendLine(await admin.GetStringAsync("/metrics"));
            await gateway.StopAsync();
            seen.AppendLine(gateway.Output);
        }

        seen.AppendLine(await BadConfigurationErrorsAsync());

        var text = seen.ToString();
        // The search covered real logs: the failing node and the refused admin calls were logged.
        Assert.Contains("Database node of site B unreachable", text, StringComparison.Ordinal);
        Assert.Contains("refused: missing or wrong token", text, StringComparison.Ordinal);
        Assert.DoesNotContain(_settings.AdminToken, text, StringComparison.Ordinal);
        Assert.DoesNotContain(_password, text, StringComparison.Ordinal);
    }

    /// <summary>Public traffic, admin calls with no, wrong and right tokens (one wrong token contains the right one), PG sessions with right and wrong passwords.</summary>
    private async Task ExerciseAsync(StringBuilder seen)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_settings.AdminPort}") };
        foreach (var authorization in new[] { null, "Bearer wrong", $"Bearer {_settings.AdminToken}x", $"Basic {_settings.AdminToken}", $"Bearer {_settings.AdminToken}" })
        {
            foreach (var path in new[] { "/admin/status", "/admin/history", "/metrics" })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
                using var response = await http.SendAsync(request);
                seen.AppendLine(await response.Content.ReadAsStringAsync());
            }

            using var post = new HttpRequestMessage(HttpMethod.Post, "/admin/switchover")
            {
                Content = new StringContent($"{{\"to\":\"{_settings.AdminToken}\",\"password\":\"{_password}\"}}", Encoding.UTF8, "application/json"),
            };
            post.Headers.TryAddWithoutValidation("Authorization", authorization);
            using var answer = await http.SendAsync(post);
            seen.AppendLine(await answer.Content.ReadAsStringAsync());
        }

        using var publicClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_settings.PublicPort}") };
        for (var i = 0; i < 5; i++)
        {
            using var response = await publicClient.GetAsync($"/deposits/{i}?token={_settings.AdminToken}");
            seen.AppendLine(await response.Content.ReadAsStringAsync());
        }

        await using (var session = new NpgsqlConnection(Endpoint(_password)))
        {
            await session.OpenAsync();
            await using var command = new NpgsqlCommand("select 1", session);
            Assert.Equal(1, await command.ExecuteScalarAsync());
        }

        var wrong = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var session = new NpgsqlConnection(Endpoint(_password + "-wrong"));
            await session.OpenAsync();
        });
        Assert.Equal("28P01", wrong.SqlState); // invalid_password, from the node through the gateway
    }

    private string Endpoint(string password) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = _settings.PgWritePort,
        Username = "postgres",
        Password = password,
        Database = "postgres",
        Pooling = false,
        Timeout = 10,
    }.ConnectionString;

    /// <summary>Configurations an operator gets wrong with a secret at hand: the secret pasted where its file belongs, and a missing token file.</summary>
    private async Task<string> BadConfigurationErrorsAsync()
    {
        var errors = new StringBuilder();
        foreach (var (key, value) in new[]
                 {
                     ("Gateway:Database:PasswordFile", _password),
                     ("Gateway:Admin:TokenFile", _settings.AdminToken),
                 })
        {
            var original = _settings.Values[key];
            _settings.Values[key] = value;
            await using var gateway = GatewayProcess.StartNew(_settings, _settings.WriteJsonFile());
            Assert.Equal(GatewayProgram.ExitBadConfiguration, await gateway.WaitForExitAsync());
            Assert.Contains(key, gateway.Output, StringComparison.Ordinal);
            errors.AppendLine(gateway.Output);
            _settings.Values[key] = original;
        }

        return errors.ToString();
    }

    private static async Task<string> WaitForStatusAsync(HttpClient admin, Func<string, bool> condition)
    {
        var giveUpAt = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                var status = await admin.GetStringAsync("/admin/status");
                if (condition(status))
                {
                    return status;
                }

                if (DateTime.UtcNow > giveUpAt)
                {
                    throw new TimeoutException($"status never matched: {status}");
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < giveUpAt)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }
    }
}
