using Gateway.Database.Observation;

namespace Gateway.Tests.Support;

/// <summary>Node observations and snapshots for decision-table tests.</summary>
public static class Observations
{
    public static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    public static NodeObservation Primary(string site, ulong flush, bool streamingStandby = true, bool readOnly = false, string syncNames = "") => new(
        site, true, null, Now, null, InRecovery: false, 1, flush, null, null, false, readOnly, syncNames,
        streamingStandby ? [new ReplicationPeer("walreceiver", "127.0.0.1", "streaming", "async", flush, TimeSpan.FromMilliseconds(2))] : [],
        flush, Now);

    public static NodeObservation Standby(string site, ulong received, ulong replayed) => new(
        site, true, null, Now, null, InRecovery: true, 1, null, received, replayed, false, false, "", [], null, Now);

    /// <summary>A node unreachable since <paramref name="downFor"/> ago, whose last flushed position was <paramref name="lastFlush"/>.</summary>
    public static NodeObservation Down(string site, TimeSpan downFor, ulong? lastFlush = null, bool wasStandby = false) => new(
        site, false, "connection refused", Now, Now - downFor, wasStandby, 1, null, null, null, false, false, "", [], lastFlush, Now - downFor);

    public static DatabaseSnapshot Snapshot(params NodeObservation[] nodes) => new(nodes.ToDictionary(n => n.SiteId), Now);
}
