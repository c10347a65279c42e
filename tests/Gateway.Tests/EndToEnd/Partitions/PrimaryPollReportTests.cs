namespace Gateway.Tests.EndToEnd.Partitions;

/// <summary>The partition tests' checker on made-up polls: it must flag what the partition tests assert is absent.</summary>
public sealed class PrimaryPollReportTests
{
    private static readonly NodeAnswer PrimaryA = new("A", InRecovery: false, ReadOnly: false);
    private static readonly NodeAnswer FencedA = new("A", InRecovery: false, ReadOnly: true);
    private static readonly NodeAnswer PrimaryB = new("B", InRecovery: false, ReadOnly: false);
    private static readonly NodeAnswer StandbyB = new("B", InRecovery: true, ReadOnly: true);

    [Fact]
    public void Counts_the_longest_run_of_polls_reaching_two_different_primaries_through_the_gateway()
    {
        var report = new PrimaryPollReport([
            new(0, PrimaryA, StandbyB, PrimaryA, StandbyB),
            new(100, PrimaryB, FencedA, null, PrimaryB),
            new(200, PrimaryB, FencedA, null, PrimaryB),
            new(300, PrimaryB, null, FencedA, PrimaryB),
            new(400, PrimaryA, PrimaryB, PrimaryA, PrimaryB),
        ]);

        // A fenced old primary is still out of recovery: reaching it through the read endpoint is two primaries too.
        Assert.Equal(2, report.LongestRunOfTwoPrimariesThroughGateway);
        Assert.Equal(2, report.LongestRunOfBothOutOfRecoveryDirectly);
    }

    [Fact]
    public void The_same_primary_behind_both_endpoints_is_one_primary()
    {
        var report = new PrimaryPollReport([new(0, PrimaryA, PrimaryA, PrimaryA, StandbyB)]);

        Assert.Equal(0, report.LongestRunOfTwoPrimariesThroughGateway);
    }

    [Fact]
    public void Lists_the_writable_nodes_the_write_endpoint_led_to_so_a_flip_back_shows()
    {
        var report = new PrimaryPollReport([
            new(0, PrimaryA, StandbyB, null, null),
            new(100, null, null, null, null),
            new(200, FencedA, null, null, null),
            new(300, PrimaryB, null, null, null),
            new(400, PrimaryB, null, null, null),
            new(500, PrimaryA, null, null, null),
        ]);

        Assert.Equal(["A", "B", "A"], report.WriteEndpointPrimaries);
        Assert.Equal(300, report.FirstWritableThroughWriteEndpoint("B", afterMs: 0));
        Assert.Equal(300, report.LongestWithoutWritableWriteEndpointMs);
    }
}
