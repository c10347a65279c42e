namespace Gateway.Cluster;

/// <summary>What a gateway may do now, as far as the cluster is concerned.</summary>
public enum LeadershipRole
{
    /// <summary>It holds the leader key under its live session: it alone acts (promotions, switches, flips, hooks).</summary>
    Lead,

    /// <summary>Another gateway leads; this one serves traffic by the shared state and acts on nothing.</summary>
    Follow,

    /// <summary>Nobody holds the leader key (or only this gateway's earlier session does): try to take it.</summary>
    Campaign,

    /// <summary>It was leading and is not any more: abandon the running step at once; its session is still valid.</summary>
    StepDown,

    /// <summary>
    /// Its session cannot be trusted to be alive in etcd any longer (or there is none): stop every write now. It takes
    /// writes again only with a renewed session and after re-reading the current epoch.
    /// </summary>
    FenceWrites,
}

/// <summary>
/// This gateway's etcd session as it last knew it: the lease and the moment the last successful renewal (or the grant)
/// was sent. etcd restarted the lease's TTL after that request left, so the lease lives in etcd at least until
/// <see cref="RenewalSentAt"/> + <see cref="GrantedTtl"/>.
/// </summary>
public sealed record SessionState(long LeaseId, TimeSpan GrantedTtl, DateTimeOffset RenewalSentAt);

/// <summary>The leader key as last read: who holds it, under which lease, and the revision it was created at (the leadership's token).</summary>
public sealed record LeaderKeyState(string Owner, long Lease, long CreateRevision);

public sealed record LeadershipInput(
    string Self,
    DateTimeOffset Now,
    SessionState? Session,
    LeaderKeyState? LeaderKey,
    bool WasLeading);

public sealed record LeadershipVerdict(LeadershipRole Role, string Sentence, DateTimeOffset? FenceAt)
{
    public bool WritesAllowed => Role != LeadershipRole.FenceWrites;
}

/// <summary>
/// The pure rule of leadership and fencing. A session is trusted until <see cref="FenceAt"/>: the last successful
/// renewal's send time plus the TTL etcd granted, less a safety margin for the time between deciding to stop writes
/// and their having stopped. Before that moment etcd cannot have expired the lease, so no other gateway can hold the
/// leader key; from it on this gateway stops writing, whatever it believes about the leader key.
/// </summary>
public static class LeadershipDecision
{
    /// <summary>A sixth of the TTL (0.5 s of the default 3 s): renewals are tried at a third and two thirds of it before the fence.</summary>
    public static TimeSpan SafetyMargin(TimeSpan ttl) => ttl / 6;

    public static DateTimeOffset FenceAt(SessionState session) =>
        session.RenewalSentAt + session.GrantedTtl - SafetyMargin(session.GrantedTtl);

    public static LeadershipVerdict Decide(LeadershipInput input)
    {
        var abandon = input.WasLeading ? "; leadership is lost, the running step is abandoned" : "";
        if (input.Session is not { } session)
        {
            return new(LeadershipRole.FenceWrites, $"no etcd session: writes stop until one is granted and the epoch re-read{abandon}", null);
        }

        var fenceAt = FenceAt(session);
        if (input.Now >= fenceAt)
        {
            return new(LeadershipRole.FenceWrites,
                $"lease {session.LeaseId:x} was last renewed by a request sent at {Time(session.RenewalSentAt)} (TTL {session.GrantedTtl.TotalSeconds:0.#} s): "
                + $"it may expire in etcd from {Time(session.RenewalSentAt + session.GrantedTtl)}, so writes stopped at {Time(fenceAt)}{abandon}", fenceAt);
        }

        var validUntil = $"lease {session.LeaseId:x} valid until {Time(fenceAt)}";
        if (input.LeaderKey is not { } leader)
        {
            return input.WasLeading
                ? new(LeadershipRole.StepDown, $"the leader key is gone although this gateway led: stepping down, the running step is abandoned ({validUntil})", fenceAt)
                : new(LeadershipRole.Campaign, $"no gateway leads: taking the leader key under {validUntil}", fenceAt);
        }

        if (leader.Owner == input.Self && leader.Lease == session.LeaseId)
        {
            return new(LeadershipRole.Lead, $"leading (leader key created at revision {leader.CreateRevision}, {validUntil})", fenceAt);
        }

        if (leader.Owner == input.Self)
        {
            return input.WasLeading
                ? new(LeadershipRole.StepDown, $"the leader key names this gateway but under lease {leader.Lease:x}, not this session's: stepping down, the running step is abandoned", fenceAt)
                : new(LeadershipRole.Campaign, $"the leader key names this gateway under lease {leader.Lease:x} of an earlier session: taking it over under {validUntil}", fenceAt);
        }

        return input.WasLeading
            ? new(LeadershipRole.StepDown, $"gateway {leader.Owner} leads now (leader key created at revision {leader.CreateRevision}): stepping down, the running step is abandoned", fenceAt)
            : new(LeadershipRole.Follow, $"following gateway {leader.Owner} (leader key created at revision {leader.CreateRevision}, {validUntil})", fenceAt);
    }

    private static string Time(DateTimeOffset at) => at.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture);
}
