namespace Gateway.Coordinator.Switching;

/// <summary>
/// The stable ids of a site switch's steps (kebab-case): what hooks are configured on, what each journal entry
/// carries beside its sentence, what GATEWAY_STEP says. The sentences may change wording; these ids never do.
/// </summary>
public static class SwitchSteps
{
    /// <summary>The whole switch: its Before hooks run before anything is changed, its After hooks once it has ended, however it ended.</summary>
    public const string Switch = "switch";

    public const string PersistEpoch = "persist-epoch";
    public const string HoldWrites = "hold-writes";
    public const string DrainWrites = "drain-writes";
    public const string MoveDatabase = "move-database";
    public const string FinishFilestoreReplication = "finish-filestore-replication";
    public const string FlipFilestoreLinks = "flip-filestore-links";
    public const string RouteWrites = "route-writes";
    public const string ReplicateBack = "replicate-back";

    /// <summary>After a switchover: the old primary rebuilt as a standby of the new one (pg_rewind, else a base backup).</summary>
    public const string RejoinOldPrimary = "rejoin-old-primary";

    /// <summary>The whole of a database-only promotion (SwitchKind.Promotion): its Before hooks run before it starts, its After hooks once it has ended.</summary>
    public const string Promote = "promote";

    /// <summary>The whole of a rejoin (SwitchKind.Rejoin), whether asked for by an operator or done by the gateway.</summary>
    public const string Rejoin = "rejoin";

    /// <summary>Before anything changes: file replication started towards the target and waited for. Not hookable (nothing has changed yet).</summary>
    public const string CatchUpFilestore = "catch-up-filestore";

    /// <summary>Undoing an abandoned switch; not hookable (a hook failing there could only make things worse).</summary>
    public const string RollBack = "roll-back";

    /// <summary>The steps of a site switch a hook can be configured on, in the order a switchover runs them.</summary>
    public static readonly IReadOnlyList<string> OfSiteSwitch =
        [Switch, PersistEpoch, HoldWrites, DrainWrites, FinishFilestoreReplication, MoveDatabase, FlipFilestoreLinks, RouteWrites, ReplicateBack, RejoinOldPrimary];

    /// <summary>Every step a hook can be configured on: a site switch's, and the whole of a database-only promotion or a rejoin.</summary>
    public static readonly IReadOnlyList<string> Hookable = [.. OfSiteSwitch, Promote, Rejoin];
}
