using Gateway.Configuration;
using Gateway.Database;
using Gateway.Database.Failover;
using Gateway.Database.Observation;

namespace Gateway.Coordinator.Supervision;

public enum CoordinatorAction
{
    None,

    /// <summary>The active site is unhealthy, but not for long enough yet.</summary>
    Wait,

    /// <summary>Move the whole service (database, filestore, writes) to the target site.</summary>
    FailOver,

    /// <summary>An operator moved the database alone; the filestore and the writes follow it (a site switch, gated like a failover).</summary>
    FollowDatabase,

    /// <summary>The primary is on the site that is not active and is lost: promote the active site's node (database only).</summary>
    PromoteDatabase,

    /// <summary>The old primary of an unplanned failover answers again and RejoinAfterFailover is Auto: rebuild it as a standby.</summary>
    Rejoin,

    /// <summary>A move would be needed but is not allowed: alarm, and leave it to an operator.</summary>
    Refuse,

    /// <summary>A move would be made, but an operator paused automatic failover: recorded, not done.</summary>
    Paused,
}

public sealed record CoordinatorVerdict(CoordinatorAction Action, string? Target, string Reason);

/// <summary>The file replication facts the coordinator decides from.</summary>
public sealed record FilestoreFacts(string? ReplicatingFrom, bool InitialSyncDone, int PendingFiles, long PendingBytes, bool ChangeEventsComplete)
{
    public static FilestoreFacts NotRunning { get; } = new(null, false, 0, 0, false);
}

/// <summary>An operator's pause of automatic moves: why, by whom, until when (it stays paused after that, overdue, until resumed).</summary>
public sealed record PauseStatus(string Reason, string By, DateTimeOffset Since, DateTimeOffset Until);

/// <summary>Everything the coordinator decides from, taken at one moment.</summary>
/// <param name="Fenced">Sites whose node was fenced and has not rejoined as a standby since.</param>
/// <param name="RejoinCandidate">The old primary of the last move, while it has not rejoined; null otherwise.</param>
/// <param name="RejoinPlanned">The move that left <paramref name="RejoinCandidate"/> was a planned switchover: it was stopped cleanly and follows by itself.</param>
public sealed record CoordinatorSnapshot(
    string ActiveSite,
    bool Switching,
    string? DatabasePrimary,
    IReadOnlySet<string> Fenced,
    DatabaseSnapshot Database,
    IReadOnlyDictionary<string, SiteHealth> Sites,
    FilestoreFacts Filestore,
    PauseStatus? Pause,
    string? RejoinCandidate = null,
    bool RejoinPlanned = false);

/// <summary>The policy the coordinator applies, gathered from the configuration's sections.</summary>
public sealed record FailoverPolicy(
    bool AutoFailover,
    TimeSpan FailoverAfter,
    TimeSpan RecoverAfter,
    bool AutoPromotion,
    TimeSpan DatabaseFailoverAfter,
    long MaxLagOnFailover,
    int MaxBacklogFiles,
    long MaxBacklogBytes,
    RejoinAfterFailover RejoinAfterFailover,
    TimeSpan StartupGrace = default)
{
    public static FailoverPolicy From(GatewayOptions options) => new(
        options.Coordinator.AutoFailover,
        options.Coordinator.FailoverAfter,
        options.Coordinator.RecoverAfter,
        options.Database.AutoFailover,
        options.Database.FailoverAfter,
        options.Database.MaxLagOnFailover,
        options.Filestore.MaxBacklogOnFailover.Files,
        options.Filestore.MaxBacklogOnFailover.Bytes,
        options.Database.RejoinAfterFailover,
        options.Coordinator.StartupGrace);
}

/// <summary>The joint RPO gate's answer for a move to <see cref="Target"/>: both bounds, both measures, and the sentence.</summary>
public sealed record FailoverGateResult(
    string Target, bool Passes, string Reason, long? DatabaseBytesBehind, double? DatabaseSecondsBehind, int FilesNotReplicated, long BytesNotReplicated, bool FilesKnown);

/// <summary>
/// The one place that chooses to move the primary or the active site, automatically (Patroni's single HA loop):
/// what the coordinator should do next and why, as a pure function of one snapshot, the policy and the time. The
/// reason is the log line, the alarm text and what the tests assert.
/// </summary>
public static class CoordinatorDecision
{
    public static CoordinatorVerdict Decide(CoordinatorSnapshot snapshot, FailoverPolicy policy, DateTimeOffset now)
    {
        var active = snapshot.ActiveSite;
        var peer = snapshot.Sites.Keys.Single(site => site != active);
        var activeHealth = snapshot.Sites[active];
        var peerHealth = snapshot.Sites[peer];

        if (snapshot.Switching)
        {
            return new(CoordinatorAction.None, null, "a switch is in progress");
        }

        if (snapshot.DatabasePrimary is { } primary && primary != active)
        {
            return DecideDatabaseElsewhere(snapshot, policy, now, primary, active);
        }

        if (activeHealth.Healthy)
        {
            return DecideRejoin(snapshot, policy) ?? new(CoordinatorAction.None, null, $"site {active} is healthy");
        }

        var down = activeHealth.For(now);
        var problems = string.Join(", ", activeHealth.Problems);
        var after = activeHealth.Problems.Contains(SiteObservation.DatabaseUnreachable) && policy.DatabaseFailoverAfter < policy.FailoverAfter
            ? policy.DatabaseFailoverAfter
            : policy.FailoverAfter;
        var situation = $"site {active} unhealthy for {Seconds(down)} ({problems})";
        if (!activeHealth.EverHealthy && down < policy.StartupGrace)
        {
            return new(CoordinatorAction.Wait, peer, $"{situation}, not yet seen healthy since the gateway started: waiting up to {Seconds(policy.StartupGrace)} for it to come up");
        }

        if (down < after)
        {
            return new(CoordinatorAction.Wait, peer, $"{situation}; failing over after {Seconds(after)}");
        }

        if (!policy.AutoFailover)
        {
            return new(CoordinatorAction.Refuse, peer, $"{situation}; automatic failover is off: an operator must fail over");
        }

        // A lost primary fails every instance's own health check, the other site's too: there, only its node and SAN count.
        var databaseLost = activeHealth.Problems.Contains(SiteObservation.DatabaseUnreachable);
        if (!Trusted(peerHealth, databaseLost, policy, now))
        {
            return new(CoordinatorAction.Refuse, peer, $"{situation}, but site {peer} is {Trust(peerHealth, databaseLost, policy, now)}: no automatic failover");
        }

        var gate = Gate(snapshot, policy, active, peer);
        if (!gate.Passes)
        {
            return new(CoordinatorAction.Refuse, peer, $"{situation}; {gate.Reason}: no automatic failover");
        }

        return Unless(snapshot.Pause, now, new(CoordinatorAction.FailOver, peer, $"{situation}; site {peer} healthy; {gate.Reason}: failing over to {peer}"));
    }

    /// <summary>
    /// The joint RPO gate of an automatic move from <paramref name="from"/> to <paramref name="to"/>: the target's
    /// node promotable with at most MaxLagOnFailover of WAL behind, and its SAN a replica with at most
    /// MaxBacklogOnFailover files and bytes not on it. The admin status shows it as "if you fail over now".
    /// </summary>
    public static FailoverGateResult Gate(CoordinatorSnapshot snapshot, FailoverPolicy policy, string from, string to)
    {
        var database = snapshot.Database;
        var bytesBehind = database.ReplayLagBytes(from, to);
        var secondsBehind = database.ReplayLag(from)?.TotalSeconds;
        var files = snapshot.Filestore;
        var replica = files.ReplicatingFrom == from && files.InitialSyncDone;
        FailoverGateResult Result(bool passes, string reason) =>
            new(to, passes, reason, bytesBehind, secondsBehind, files.PendingFiles, files.PendingBytes, replica && files.ChangeEventsComplete);

        if (!policy.AutoPromotion && database.Node(to) is not { IsPrimary: true })
        {
            return Result(false, "automatic database promotion is off (Database:AutoFailover)");
        }

        if (snapshot.Fenced.Contains(to))
        {
            return Result(false, $"the database of site {to} is fenced (not rejoined as a standby)");
        }

        var promotion = PromotionDecision.Decide(database, from, to, policy.MaxLagOnFailover, force: false);
        if (!promotion.Allowed)
        {
            return Result(false, promotion.Reason);
        }

        if (!replica)
        {
            return Result(false, files.ReplicatingFrom == from
                ? $"SAN {to}'s initial sync from SAN {from} has not finished"
                : $"SAN {to} is not a replica of SAN {from} (no replication {from} -> {to} runs)");
        }

        if (!files.ChangeEventsComplete)
        {
            return Result(false, $"change events of SAN {from} were lost and the rescan has not finished: what SAN {to} lacks is unknown");
        }

        if (files.PendingFiles > policy.MaxBacklogFiles || files.PendingBytes > policy.MaxBacklogBytes)
        {
            return Result(false,
                $"{files.PendingFiles} file(s), {files.PendingBytes} bytes not yet on SAN {to}, above MaxBacklogOnFailover ({policy.MaxBacklogFiles} files, {policy.MaxBacklogBytes} bytes)");
        }

        return Result(true, $"{promotion.Reason}; {files.PendingFiles} file(s), {files.PendingBytes} bytes not yet on SAN {to}, within MaxBacklogOnFailover");
    }

    /// <summary>The database was moved by an operator (database only): follow it, or bring it back if its node is lost.</summary>
    private static CoordinatorVerdict DecideDatabaseElsewhere(CoordinatorSnapshot snapshot, FailoverPolicy policy, DateTimeOffset now, string primary, string active)
    {
        var node = snapshot.Database.Node(primary);
        if (node is { Reachable: false, UnreachableSince: { } since } && now - since >= policy.DatabaseFailoverAfter)
        {
            if (!policy.AutoFailover || !policy.AutoPromotion)
            {
                return new(CoordinatorAction.Refuse, active, $"the primary on site {primary} is unreachable for {Seconds(now - since)}; automatic failover is off: an operator must promote");
            }

            var promotion = PromotionDecision.Decide(snapshot.Database, primary, active, policy.MaxLagOnFailover, force: false);
            return promotion.Allowed && !snapshot.Fenced.Contains(active)
                ? Unless(snapshot.Pause, now, new(CoordinatorAction.PromoteDatabase, active, $"the primary on site {primary} is unreachable for {Seconds(now - since)}; {promotion.Reason}: promoting {active}"))
                : new(CoordinatorAction.Refuse, active, $"the primary on site {primary} is unreachable; {(snapshot.Fenced.Contains(active) ? $"site {active} is fenced" : promotion.Reason)}: no automatic promotion");
        }

        if (!node?.Reachable ?? true)
        {
            return new(CoordinatorAction.Wait, active, $"the primary on site {primary} is unreachable; promoting {active} after {Seconds(policy.DatabaseFailoverAfter)}");
        }

        if (!policy.AutoFailover)
        {
            return new(CoordinatorAction.None, null, $"the database primary is on site {primary} while site {active} is active; automatic failover is off, so the site stays");
        }

        var target = snapshot.Sites[primary];
        if (!Trusted(target, databaseLost: false, policy, now))
        {
            return new(CoordinatorAction.Refuse, primary, $"the database primary is on site {primary} while site {active} is active, but site {primary} is {Trust(target, false, policy, now)}: the site does not follow yet");
        }

        return Unless(snapshot.Pause, now,
            new(CoordinatorAction.FollowDatabase, primary, $"the database primary is on site {primary} while site {active} is active: the filestore and the writes follow it"));
    }

    /// <summary>
    /// The old primary of a planned switchover whose own rejoin step did not run (the gateway running it was lost) is
    /// rebuilt as a standby once its site answers; after an unplanned failover only with RejoinAfterFailover Auto, once
    /// the old primary itself answers again.
    /// </summary>
    private static CoordinatorVerdict? DecideRejoin(CoordinatorSnapshot snapshot, FailoverPolicy policy)
    {
        if (snapshot.RejoinCandidate is not { } old)
        {
            return null;
        }

        if (snapshot.RejoinPlanned)
        {
            // Its database was stopped on purpose; anything else wrong with the site (its SAN, its instances) waits for an operator.
            return snapshot.Sites.TryGetValue(old, out var site) && site.Problems.All(problem => problem == SiteObservation.DatabaseUnreachable)
                ? new(CoordinatorAction.Rejoin, old, $"the old primary on site {old} was stopped cleanly by a planned switchover and has not rejoined yet: rejoining it as a standby of {snapshot.DatabasePrimary}")
                : null;
        }

        return policy.RejoinAfterFailover == RejoinAfterFailover.Auto && snapshot.Database.Node(old) is { Reachable: true }
            ? new(CoordinatorAction.Rejoin, old, $"the old primary on site {old} answers again and Database:RejoinAfterFailover is Auto: rejoining it as a standby of {snapshot.DatabasePrimary}")
            : null;
    }

    /// <summary>A pause turns a move into a recorded refusal; once past its end it is overdue, and still holds.</summary>
    private static CoordinatorVerdict Unless(PauseStatus? pause, DateTimeOffset now, CoordinatorVerdict move) => pause is null
        ? move
        : new(CoordinatorAction.Paused, move.Target,
            $"automatic failover is paused ({pause.Reason}, by {pause.By}, until {pause.Until:u}{(now > pause.Until ? ", OVERDUE" : "")}); it would have done: {move.Reason}");

    private static bool Trusted(SiteHealth health, bool databaseLost, FailoverPolicy policy, DateTimeOffset now) => databaseLost
        ? health.InfrastructureHealthy && health.InfrastructureFor(now) >= policy.RecoverAfter
        : health.Healthy && health.For(now) >= policy.RecoverAfter;

    private static string Trust(SiteHealth health, bool databaseLost, FailoverPolicy policy, DateTimeOffset now) => (databaseLost, health) switch
    {
        (true, { InfrastructureHealthy: true }) => $"healthy (database node and SAN) for only {Seconds(health.InfrastructureFor(now))} of the {Seconds(policy.RecoverAfter)} required",
        (true, _) => $"unhealthy ({string.Join(", ", health.Problems.Where(p => !p.Contains("instance", StringComparison.Ordinal)))})",
        (false, { Healthy: true }) => $"healthy for only {Seconds(health.For(now))} of the {Seconds(policy.RecoverAfter)} required",
        _ => $"unhealthy ({string.Join(", ", health.Problems)})",
    };

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.0} s";
}
