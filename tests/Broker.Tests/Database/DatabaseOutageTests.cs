using System.Net;
using Broker.Tests.Infrastructure;
using Gateway.Testing;

namespace Broker.Tests.Database;

/// <summary>
/// The broker's database path (in production, the gateway's PostgreSQL endpoint) goes dark, as it does for a few
/// seconds during a failover. Simulated with a relay the test cuts and restores.
/// </summary>
[Integration]
[Collection(PostgresCollection.Name)]
public sealed class DatabaseOutageTests(BrokerEnvironment environment) : IAsyncLifetime
{
    private readonly TcpRelay _relay = new(environment.Postgres.Primary.Port);
    private readonly Filestore _filestore = new();
    private Gateway.Testing.BrokerProcess _broker = null!;
    private BrokerApi _api = null!;

    public Task InitializeAsync()
    {
        _broker = environment.NewBroker("o1", environment.BrokerConnectionString(BrokerEnvironment.SharedDatabase, _relay.Port), _filestore.LinkPath);
        _api = new BrokerApi(_broker);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_brief_outage_is_ridden_out_by_retries_on_fresh_connections()
    {
        await _broker.StartAsync();
        await _api.DepositCreatedAsync("before.bin", [1]); // leaves a pooled connection that the cut will kill

        await _relay.CutAsync();
        var deposit = _api.DepositAsync("during.bin", [2]);
        await Task.Delay(TimeSpan.FromSeconds(1));
        _relay.Restore();

        using var response = await deposit;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Contains("Database call failed (attempt 1), retrying", _broker.StandardOutput);
    }

    [Fact]
    public async Task A_long_outage_fails_the_deposit_with_503_leaving_no_file_and_recovers_after()
    {
        await _broker.StartAsync();

        await _relay.CutAsync();
        using var failed = await _api.DepositAsync("lost.bin", [1, 2, 3]);
        using var unhealthy = await _api.Http.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal("1", Assert.Single(failed.Headers.GetValues("Retry-After")));
        Assert.Equal("o1", BrokerApi.ServedBy(failed));
        Assert.Equal("database temporarily unavailable", await BrokerApi.ErrorAsync(failed));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_filestore.DepositsDirectory));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unhealthy.StatusCode);
        Assert.Contains("Connection refused", await unhealthy.Content.ReadAsStringAsync());

        _relay.Restore();
        await _broker.WaitUntilHealthyAsync(TimeSpan.FromSeconds(10));
        await _api.DepositCreatedAsync("after.bin", [4]);
        Assert.DoesNotContain(BrokerEnvironment.DatabasePassword, _broker.StandardOutput + _broker.StandardError);
    }

    [Fact]
    public async Task Start_up_waits_for_the_database_instead_of_crashing()
    {
        await _relay.CutAsync();

        _broker.Launch();
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.True(_broker.IsRunning);
        Assert.False(await _broker.IsHealthyAsync());
        Assert.Contains("Database not ready (attempt 1): Failed to connect", _broker.StandardOutput);

        _relay.Restore();
        await _broker.WaitUntilHealthyAsync(TimeSpan.FromSeconds(10));
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _broker.DisposeAsync();
        await _relay.DisposeAsync();
        _filestore.Dispose();
    }
}
