using Gateway.Configuration;
using Gateway.Filestore;
using Gateway.Tests.Support;

namespace Gateway.Tests.Configuration;

/// <summary>
/// The Gateway:Filestore:Replication section, bound and validated by the loader like the rest of the file: one test
/// per rule of <see cref="ReplicationOptionsValidator"/> and <see cref="ReplicationOptionsRules"/>, each breaking one key
/// of an otherwise valid configuration.
/// </summary>
public sealed class ReplicationConfigurationTests : IDisposable
{
    private const string Section = "Gateway:Filestore:Replication";

    private readonly GatewaySettings _settings = GatewaySettings.Placeholder();

    public void Dispose() => _settings.Dispose();

    private void AssertRejected(string key, string problem) =>
        Assert.Contains(_settings.Errors(), e => e.Key == key && e.Problem.Contains(problem, StringComparison.Ordinal));

    [Fact]
    public void The_section_binds_its_values_and_keeps_the_documented_defaults_for_the_rest()
    {
        _settings.Values[$"{Section}:MaxParallelCopies"] = "8";
        _settings.Values[$"{Section}:Deletes"] = "Keep";
        _settings.Values[$"{Section}:ReconcileInterval"] = "00:01:00";

        var replication = _settings.Load().Filestore.Replication;

        Assert.Equal(8, replication.MaxParallelCopies);
        Assert.Equal(DeletePolicy.Keep, replication.Deletes);
        Assert.Equal(TimeSpan.FromMinutes(1), replication.ReconcileInterval);
        Assert.Equal(TimeSpan.FromHours(24), replication.ChecksumInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(200), replication.RetryBaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), replication.RetryMaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), replication.ProgressLogInterval);
        Assert.Equal(".*.tmp", replication.InProgressFilePattern);
    }

    [Fact]
    public void A_misspelt_replication_key_is_named_with_its_full_path()
    {
        _settings.Values[$"{Section}:MaxParalelCopies"] = "8";
        AssertRejected($"{Section}:MaxParalelCopies", "unknown key");
    }

    [Theory]
    [InlineData("ReconcileInterval", "00:00:00")]
    [InlineData("ChecksumInterval", "-01:00:00")]
    [InlineData("RetryBaseDelay", "00:00:00")]
    [InlineData("RetryMaxDelay", "-00:00:01")]
    [InlineData("ProgressLogInterval", "00:00:00")]
    public void A_zero_or_negative_replication_interval_is_rejected_with_its_value(string key, string value)
    {
        _settings.Values[$"{Section}:{key}"] = value;
        AssertRejected($"{Section}:{key}", $"{TimeSpan.Parse(value)} must be greater than zero");
    }

    [Theory]
    [InlineData("ReconcileInterval", "60.00:00:00")]
    [InlineData("ProgressLogInterval", "60.00:00:00")]
    [InlineData("RetryMaxDelay", "2.00:00:00")]
    public void A_replication_interval_longer_than_its_timer_can_wait_is_rejected(string key, string value)
    {
        _settings.Values[$"{Section}:{key}"] = value;
        AssertRejected($"{Section}:{key}", $"{value} must be at most");
    }

    [Fact]
    public void A_longest_retry_wait_shorter_than_the_first_is_rejected()
    {
        _settings.Values[$"{Section}:RetryBaseDelay"] = "00:00:02";
        _settings.Values[$"{Section}:RetryMaxDelay"] = "00:00:01";
        AssertRejected($"{Section}:RetryMaxDelay", "00:00:01 must not be shorter than RetryBaseDelay (00:00:02)");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("65")]
    public void Parallel_copies_out_of_bounds_are_rejected(string copies)
    {
        _settings.Values[$"{Section}:MaxParallelCopies"] = copies;
        AssertRejected($"{Section}:MaxParallelCopies", $"{copies} must be between 1 and 64");
    }

    [Fact]
    public void A_delete_policy_given_as_an_undefined_number_is_rejected_naming_the_policies()
    {
        // A name that is no policy ("Mirror") does not even convert: the binder names key and value (see A_value_that_does_not_convert_names_its_key).
        _settings.Values[$"{Section}:Deletes"] = "7";
        AssertRejected($"{Section}:Deletes", "'7' is not one of Propagate, Keep");
    }

    [Fact]
    public void An_in_progress_pattern_with_a_slash_is_rejected()
    {
        _settings.Values[$"{Section}:InProgressFilePattern"] = "tmp/*";
        AssertRejected($"{Section}:InProgressFilePattern", "'tmp/*' is matched against file names and must not contain '/'");
    }
}
