using Gateway.Filestore;

namespace Gateway.Tests.Filestore;

public sealed class ReplicationOptionsTests
{
    private const string Section = "Gateway:Filestore:Replication";

    private static IEnumerable<string> Problems(Action<ReplicationOptions> change)
    {
        var options = new ReplicationOptions();
        change(options);
        return options.Validate(Section).Select(e => e.ToString());
    }

    [Fact]
    public void The_defaults_are_valid() => Assert.Empty(new ReplicationOptions().Validate(Section));

    [Theory]
    [InlineData(nameof(ReplicationOptions.ReconcileInterval))]
    [InlineData(nameof(ReplicationOptions.ChecksumInterval))]
    [InlineData(nameof(ReplicationOptions.RetryBaseDelay))]
    [InlineData(nameof(ReplicationOptions.ProgressLogInterval))]
    public void A_zero_interval_is_refused_naming_its_key(string property)
    {
        var problems = Problems(o => typeof(ReplicationOptions).GetProperty(property)!.SetValue(o, TimeSpan.Zero));
        Assert.Contains($"{Section}:{property}: 00:00:00 must be greater than zero", problems);
    }

    [Theory]
    [InlineData(nameof(ReplicationOptions.ReconcileInterval))]
    [InlineData(nameof(ReplicationOptions.ProgressLogInterval))]
    [InlineData(nameof(ReplicationOptions.RetryMaxDelay))]
    public void An_interval_too_long_for_a_timer_is_refused_naming_its_key(string property)
    {
        var problems = Problems(o => typeof(ReplicationOptions).GetProperty(property)!.SetValue(o, TimeSpan.FromDays(60)));
        Assert.Contains(problems, p => p.StartsWith($"{Section}:{property}: 60.00:00:00 must be at most", StringComparison.Ordinal));
    }

    [Fact]
    public void The_longest_retry_wait_must_not_be_shorter_than_the_first() =>
        Assert.Contains(
            $"{Section}:RetryMaxDelay: 00:00:01 must not be shorter than RetryBaseDelay (00:00:02)",
            Problems(o => (o.RetryBaseDelay, o.RetryMaxDelay) = (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1))));

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void Parallel_copies_are_bounded(int copies) =>
        Assert.Contains($"{Section}:MaxParallelCopies: {copies} must be between 1 and 64", Problems(o => o.MaxParallelCopies = copies));

    [Fact]
    public void An_undefined_delete_policy_is_refused() =>
        Assert.Contains($"{Section}:Deletes: '7' is not one of Propagate, Keep", Problems(o => o.Deletes = (DeletePolicy)7));

    [Fact]
    public void The_in_progress_pattern_is_a_file_name_pattern() =>
        Assert.Contains(
            $"{Section}:InProgressFilePattern: 'tmp/*' is matched against file names and must not contain '/'",
            Problems(o => o.InProgressFilePattern = "tmp/*"));
}
