namespace Gateway.Tests.Cluster;

public sealed class PrimaryErasTests
{
    private static AcknowledgedWrite Write(string gateway, string server, int sentMs, int acknowledgedMs) =>
        new(Guid.NewGuid(), gateway, server, TimeSpan.FromMilliseconds(sentMs), TimeSpan.FromMilliseconds(acknowledgedMs));

    [Fact]
    public void A_failover_where_the_new_primary_takes_its_first_write_after_the_old_ones_last_is_clean()
    {
        AcknowledgedWrite[] run =
        [
            Write("gw1", "A", 0, 5), Write("gw2", "A", 3, 9), Write("gw1", "A", 100, 120),
            Write("gw2", "B", 4000, 4300), Write("gw1", "B", 9000, 9010),
        ];

        Assert.Empty(PrimaryEras.Overlaps(run));
        var eras = PrimaryEras.Of(run);
        Assert.Equal(["A", "B"], eras.Select(e => e.Server));
        Assert.Equal((TimeSpan.FromMilliseconds(0), TimeSpan.FromMilliseconds(120)), (eras[0].From, eras[0].To));
        Assert.Equal(2, eras[0].WritesByGateway["gw1"]);
        Assert.Equal(1, eras[1].WritesByGateway["gw1"]);
    }

    [Fact]
    public void Two_gateways_writing_to_two_primaries_at_the_same_time_is_an_overlap()
    {
        // gw1 (cut off, not yet fenced) still writes to A while gw2 already writes to B.
        AcknowledgedWrite[] run = [Write("gw1", "A", 0, 10), Write("gw1", "A", 3000, 3020), Write("gw2", "B", 2500, 2600)];

        var overlap = Assert.Single(PrimaryEras.Overlaps(run));
        Assert.Equal(("A", "B"), (overlap.First.Server, overlap.Second.Server));
        Assert.Equal(TimeSpan.FromMilliseconds(100), overlap.Shared);
    }

    [Fact]
    public void A_write_to_the_old_primary_after_the_new_one_took_writes_is_an_overlap_even_when_no_two_writes_are_concurrent()
    {
        // After healing, the old leader sends one write to the old primary: no B write runs at that moment, but A's era now spans B's.
        AcknowledgedWrite[] run = [Write("gw1", "A", 0, 10), Write("gw2", "B", 5000, 5010), Write("gw1", "A", 9000, 9005)];

        Assert.Single(PrimaryEras.Overlaps(run));
    }

    [Fact]
    public void A_write_acknowledged_by_the_old_primary_after_the_first_write_to_the_new_one_started_is_an_overlap()
    {
        // Never concurrent by the servers' clocks, perhaps, but the client cannot tell: the cautious side.
        AcknowledgedWrite[] run = [Write("gw1", "A", 0, 2001), Write("gw2", "B", 2000, 2100)];

        Assert.Single(PrimaryEras.Overlaps(run));
    }
}
