using Gateway.Database.Failover;

namespace Gateway.Coordinator.Switching;

/// <summary>What a probe of a SAN directory last found: it answered (readable or not), or it has not answered in time.</summary>
public enum SanState
{
    Readable,
    Unreadable,

    /// <summary>The probe has been waiting longer than its timeout (a hung mount): nothing is known.</summary>
    Unresponsive,
}

/// <summary>The database facts a switch depends on, taken at one moment.</summary>
/// <param name="WhyNotFollowing">Why the target's node does not stream from the source on its timeline; null when it does.</param>
/// <param name="TargetIsDesignatedPrimary">The target already is the primary the gateway routes to (a resumed switch, or one following a promotion).</param>
/// <param name="TargetFenced">The target's node was fenced and has not rejoined as a standby since (an old primary that may have diverged).</param>
public sealed record SwitchDatabaseFacts(bool SourceIsReachablePrimary, string? WhyNotFollowing, bool TargetIsDesignatedPrimary, bool TargetFenced, PromotionVerdict Gate);

/// <summary>The filestore facts a switch depends on, taken at one moment.</summary>
/// <param name="LinkSite">The site whose SAN the filestore links point at, or null when they cannot be read.</param>
/// <param name="ReplicatingFrom">The source site of the running replicator, or null when none runs.</param>
/// <param name="ChangeFeedReliable">No change event was lost since the last full comparison (so the pending list is every known difference).</param>
public sealed record SwitchFilestoreFacts(string? LinkSite, string? ReplicatingFrom, bool InitialSyncDone, int PendingFiles, long PendingBytes, SanState SourceSan, bool ChangeFeedReliable = true);

public sealed record SwitchFacts(SwitchKind Kind, bool Force, string From, string To, SwitchDatabaseFacts Database, SwitchFilestoreFacts Filestore);

public enum ReadinessAction
{
    /// <summary>Everything the switch needs is in place: it may start.</summary>
    Proceed,

    /// <summary>The target's SAN must first catch up with the source's (replication started and waited for), then the facts are looked at again.</summary>
    CatchUpFilestore,

    /// <summary>The switch cannot be done safely: it is refused before anything changes.</summary>
    Refuse,
}

public sealed record ReadinessVerdict(ReadinessAction Action, string Reason);

/// <summary>
/// Everything a switch will need, checked before its first step (invariant: a switch never moves the database and
/// then refuses the files). Pure: facts in, a verdict and its sentence out, which says what to do when it refuses.
/// </summary>
public static class SwitchReadiness
{
    public static ReadinessVerdict Decide(SwitchFacts facts)
    {
        if (DatabaseRefusal(facts) is { } database)
        {
            return new(ReadinessAction.Refuse, $"{Name(facts)} refused before anything changed: {database}");
        }

        return FilestoreVerdict(facts) switch
        {
            (ReadinessAction.Refuse, var why) => new(ReadinessAction.Refuse, $"{Name(facts)} refused before anything changed: {why}"),
            (var action, var why) => new(action, why),
        };
    }

    private static string? DatabaseRefusal(SwitchFacts facts)
    {
        var (from, to, db) = (facts.From, facts.To, facts.Database);
        if (db.TargetIsDesignatedPrimary)
        {
            return null;
        }

        if (facts.Kind == SwitchKind.Switchover)
        {
            if (!db.SourceIsReachablePrimary)
            {
                return $"the database of site {from} is not a reachable primary, and a planned switchover needs it; if site {from} is lost, fail over instead (POST /admin/failover {{\"to\":\"{to}\"}})";
            }

            if (db.WhyNotFollowing is { } why)
            {
                return $"{why}; a planned switchover needs a standby that streams from the primary: rejoin it first (POST /admin/database/rejoin {{\"site\":\"{to}\"}})";
            }

            return null;
        }

        if (db.TargetFenced && !facts.Force)
        {
            return $"the database of site {to} has not rejoined as a standby since it was fenced: promoting it would discard what {from} wrote since; rejoin it first (POST /admin/database/rejoin {{\"site\":\"{to}\"}}), or force the failover to accept that";
        }

        return db.Gate.Allowed ? null : db.Gate.Reason;
    }

    private static (ReadinessAction, string) FilestoreVerdict(SwitchFacts facts)
    {
        var (from, to, files) = (facts.From, facts.To, facts.Filestore);
        if (files.LinkSite == to)
        {
            return (ReadinessAction.Proceed, $"the filestore links already point at SAN {to}");
        }

        if (files.LinkSite != from)
        {
            return (ReadinessAction.Refuse, files.LinkSite is null
                ? "the filestore links cannot be read; fix them before switching (see the filestore status)"
                : $"the filestore links point at SAN {files.LinkSite}, which belongs to neither side of this switch");
        }

        var replicaComplete = files.ReplicatingFrom == from && files.InitialSyncDone;
        if (replicaComplete && files.SourceSan == SanState.Readable)
        {
            return (ReadinessAction.Proceed, $"SAN {to} is a replica of SAN {from}; the final sync finishes its backlog of {files.PendingFiles} file(s)");
        }

        if (replicaComplete)
        {
            if (files.PendingFiles == 0 && files.ChangeFeedReliable)
            {
                return (ReadinessAction.Proceed, $"SAN {from} is {Describe(files.SourceSan)}, but no change of it is known to be missing from SAN {to}");
            }

            return facts.Force
                ? (ReadinessAction.Proceed, $"forced: SAN {from} is {Describe(files.SourceSan)} and {Backlog(files)} not on SAN {to} will be listed as lost")
                : (ReadinessAction.Refuse, $"SAN {from} is {Describe(files.SourceSan)} and {Backlog(files)} not on SAN {to}: they would be lost; bring SAN {from} back, or force the failover to accept the loss (the report lists every file)");
        }

        var notReplica = files.ReplicatingFrom == from
            ? $"SAN {to}'s initial sync from SAN {from} has not finished"
            : files.ReplicatingFrom is null ? $"no replication from SAN {from} to SAN {to} is running" : $"replication runs from SAN {files.ReplicatingFrom}, not from SAN {from}";
        if (files.SourceSan == SanState.Readable)
        {
            return (ReadinessAction.CatchUpFilestore, $"{notReplica}: replicating SAN {from} -> {to} and waiting until it has caught up, before anything changes");
        }

        return facts.Force
            ? (ReadinessAction.Proceed, $"forced: {notReplica} and SAN {from} is {Describe(files.SourceSan)}, so what SAN {to} lacks is unknown")
            : (ReadinessAction.Refuse, $"{notReplica} and SAN {from} is {Describe(files.SourceSan)}, so SAN {to} cannot be made complete and what it lacks is unknown; force the failover to accept that");
    }

    private static string Describe(SanState state) => state == SanState.Unresponsive ? "not answering (a hung mount?)" : "unreadable";

    private static string Backlog(SwitchFilestoreFacts files) =>
        files.ChangeFeedReliable ? $"{files.PendingFiles} file(s) ({files.PendingBytes} bytes)" : $"an unknown number of files (change events were lost; {files.PendingFiles} known)";

    private static string Name(SwitchFacts facts) => $"{facts.Kind.ToString().ToLowerInvariant()} to {facts.To}";
}

public enum FlipBasis
{
    /// <summary>A comparison of both SANs just found the target lacking nothing.</summary>
    VerifiedComplete,

    /// <summary>The source could not be compared, but no change of it is known to be missing (every event was replicated).</summary>
    NothingKnownMissing,

    /// <summary>An operator forced the flip onto a replica known or feared to be incomplete; the report lists what is missing.</summary>
    Forced,
}

public sealed record FinalFileVerdict(bool Flip, FlipBasis Basis, string Reason);

/// <summary>
/// After the final sync, with writes held and the database not yet moved: may the links flip onto the target? A
/// switch that is not forced never flips onto a replica known to lack a file (it is abandoned instead, nothing moved).
/// </summary>
public static class FinalFileDecision
{
    public static FinalFileVerdict Decide(bool force, bool targetComplete, bool compared, IReadOnlyList<string> notReplicated, string? failure) => (targetComplete, compared, notReplicated.Count, force) switch
    {
        (true, _, _, _) or (false, true, 0, _) => new(true, FlipBasis.VerifiedComplete, "a comparison of both SANs found nothing missing on the target"),
        (false, false, 0, _) => new(true, FlipBasis.NothingKnownMissing, $"no change is known to be missing, but both SANs could not be compared ({failure})"),
        (false, _, var missing, true) => new(true, FlipBasis.Forced, $"forced onto a target that lacks {Files(missing, compared)} ({failure})"),
        (false, _, var missing, false) => new(false, FlipBasis.Forced, $"the target lacks {Files(missing, compared)} after the final sync ({failure})"),
    };

    private static string Files(int count, bool compared) => compared ? $"{count} file(s)" : $"at least {count} file(s) (those its change events reported)";
}
