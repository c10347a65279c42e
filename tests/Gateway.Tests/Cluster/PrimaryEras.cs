namespace Gateway.Tests.Cluster;

/// <summary>
/// One write a client saw acknowledged: through which gateway, which database server committed it (the server's own
/// address, <c>inet_server_addr()</c>, mapped to its site), when the client started it (before opening the connection
/// when it opened one) and when the acknowledgment arrived.
/// </summary>
public sealed record AcknowledgedWrite(Guid Id, string Gateway, string Server, TimeSpan Sent, TimeSpan Acknowledged);

/// <summary>The span of one primary's acknowledged writes: from the first one's start to the last one's acknowledgment.</summary>
public sealed record PrimaryEra(string Server, TimeSpan From, TimeSpan To, IReadOnlyDictionary<string, int> WritesByGateway)
{
    public bool Overlaps(PrimaryEra other) => From <= other.To && other.From <= To;

    public override string ToString() =>
        $"{Server} {From.TotalMilliseconds:0}..{To.TotalMilliseconds:0} ms ({string.Join(", ", WritesByGateway.OrderBy(g => g.Key).Select(g => $"{g.Value} through {g.Key}"))})";
}

/// <summary>
/// The split-brain check over a whole run, from the clients' side: the acknowledged writes of each database server
/// form that server's era (<see cref="PrimaryEra"/>), and the run is clean when no two eras overlap. A write was
/// committed at some instant between its start and its acknowledgment, so disjoint eras mean that at every moment at
/// most one server was taking acknowledged writes, through whichever gateway, and that once a newer primary took a
/// write the older one took none afterwards (an A, B, A alternation makes A's era cover B's). Taking the whole span
/// from start to acknowledgment is the cautious side: it can report an overlap the servers' own order would not show,
/// never hide one.
/// </summary>
public static class PrimaryEras
{
    public static IReadOnlyList<PrimaryEra> Of(IEnumerable<AcknowledgedWrite> writes) =>
        [.. writes.GroupBy(w => w.Server)
            .Select(server => new PrimaryEra(
                server.Key,
                server.Min(w => w.Sent),
                server.Max(w => w.Acknowledged),
                server.GroupBy(w => w.Gateway).ToDictionary(g => g.Key, g => g.Count())))
            .OrderBy(era => era.From)];

    /// <summary>Every pair of eras that overlap, with the time they share: none in a run without two primaries.</summary>
    public static IReadOnlyList<(PrimaryEra First, PrimaryEra Second, TimeSpan Shared)> Overlaps(IEnumerable<AcknowledgedWrite> writes)
    {
        var eras = Of(writes);
        return [.. eras.SelectMany((first, i) => eras.Skip(i + 1).Where(first.Overlaps)
            .Select(second => (first, second, Min(first.To, second.To) - Max(first.From, second.From))))];
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
