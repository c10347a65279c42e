using Gateway.Testing;

namespace Broker.Tests.Configuration;

/// <summary>The real broker binary refuses bad configuration before doing anything else.</summary>
[Integration]
public sealed class StartupConfigurationTests
{
    private const string Password = "hunter2-do-not-print";
    private const string UsableConnectionString = $"Host=127.0.0.1;Port=1;Database=broker;Username=broker;Password={Password}";
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("", UsableConnectionString, "/srv/filestore", "Broker:InstanceId")]
    [InlineData("a1", "", "/srv/filestore", "Broker:ConnectionString")]
    [InlineData("a1", UsableConnectionString, "", "Broker:FilestorePath")]
    public async Task A_missing_key_exits_2_naming_the_key(string instanceId, string connectionString, string filestorePath, string key)
    {
        await using var broker = new BrokerProcess(instanceId, FreePort.Next(), connectionString, filestorePath);

        broker.Launch();

        Assert.Equal(2, await broker.WaitForExitAsync(ExitTimeout));
        Assert.Contains($"configuration error: {key}: is required", broker.StandardError);
        Assert.DoesNotContain(Password, broker.StandardError + broker.StandardOutput);
    }

    [Fact]
    public async Task An_unparseable_connection_string_exits_2_without_printing_it()
    {
        await using var broker = new BrokerProcess("a1", FreePort.Next(), $"Host=db;Password={Password};Bogus=1", "/srv/filestore");

        broker.Launch();

        Assert.Equal(2, await broker.WaitForExitAsync(ExitTimeout));
        Assert.Contains("configuration error: Broker:ConnectionString: is not a valid Npgsql connection string", broker.StandardError);
        Assert.DoesNotContain(Password, broker.StandardError + broker.StandardOutput);
    }
}
