using Broker.Configuration;
using Microsoft.Extensions.Configuration;

namespace Broker.Tests.Configuration;

public sealed class BrokerSettingsTests
{
    private const string Password = "s3cret-pa55";
    private const string ValidConnectionString = $"Host=db.example;Port=6432;Database=broker;Username=broker;Password={Password}";

    [Fact]
    public void Loads_all_three_keys()
    {
        var settings = BrokerSettings.Load(Configuration(("InstanceId", "a1"), ("ConnectionString", ValidConnectionString), ("FilestorePath", "/srv/filestore")));

        Assert.Equal("a1", settings.InstanceId);
        Assert.Equal(ValidConnectionString, settings.ConnectionString);
        Assert.Equal("/srv/filestore", settings.FilestorePath);
    }

    [Theory]
    [InlineData("InstanceId")]
    [InlineData("ConnectionString")]
    [InlineData("FilestorePath")]
    public void A_missing_key_is_named(string missing)
    {
        var present = new[] { ("InstanceId", "a1"), ("ConnectionString", ValidConnectionString), ("FilestorePath", "/srv") }
            .Where(setting => setting.Item1 != missing).ToArray();

        var failure = Assert.Throws<BrokerConfigurationException>(() => BrokerSettings.Load(Configuration(present)));

        Assert.Equal($"configuration error: Broker:{missing}: is required", failure.Message);
    }

    [Fact]
    public void A_blank_value_counts_as_missing()
    {
        var failure = Assert.Throws<BrokerConfigurationException>(() =>
            BrokerSettings.Load(Configuration(("InstanceId", "  "), ("ConnectionString", ValidConnectionString), ("FilestorePath", "/srv"))));

        Assert.Equal("Broker:InstanceId", failure.Key);
    }

    [Theory]
    [InlineData("a 1")]
    [InlineData("a1\r\nX-Injected: yes")]
    public void An_instance_id_that_cannot_be_a_header_value_is_refused(string instanceId)
    {
        var failure = Assert.Throws<BrokerConfigurationException>(() =>
            BrokerSettings.Load(Configuration(("InstanceId", instanceId), ("ConnectionString", ValidConnectionString), ("FilestorePath", "/srv"))));

        Assert.Equal("Broker:InstanceId", failure.Key);
    }

    [Theory]
    [InlineData($"Host=db;Database=broker;Password={Password};NoSuchKeyword=1", "is not a valid Npgsql connection string")]
    [InlineData($"Database=broker;Password={Password}", "must name a Host")]
    [InlineData($"Host=db;Password={Password}", "must name a Database")]
    public void A_bad_connection_string_is_explained_without_repeating_it(string connectionString, string expectedProblem)
    {
        var failure = Assert.Throws<BrokerConfigurationException>(() =>
            BrokerSettings.Load(Configuration(("InstanceId", "a1"), ("ConnectionString", connectionString), ("FilestorePath", "/srv"))));

        Assert.Equal($"configuration error: Broker:ConnectionString: {expectedProblem}", failure.Message);
        Assert.DoesNotContain(Password, failure.Message);
    }

    [Fact]
    public void Describes_the_database_without_credentials()
    {
        var settings = new BrokerSettings("a1", ValidConnectionString, "/srv");

        Assert.Equal("host db.example port 6432 database broker", settings.DatabaseDescription);
        Assert.DoesNotContain(Password, settings.ToString());
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(setting => KeyValuePair.Create<string, string?>($"Broker:{setting.Key}", setting.Value)))
            .Build();
}
